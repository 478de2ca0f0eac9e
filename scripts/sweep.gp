# sweep.gp -- one sweep's charts (see sweep_plot.sh): tmp (the prepared
# data), dir, name, n (parameters), p1, p2, fmt, metrics (which to draw).
set termoption noenhanced
if (fmt eq 'png') { set terminal pngcairo size 900,650 font 'sans,10' noenhanced } \
else { set terminal svg size 900,650 font 'sans,10' noenhanced }
do for [metric in metrics] {
    t = metric eq 'drop_pct' ? 'requests dropped (%)' : \
        metric eq 'peak_admitted_rps' ? 'peak passed downstream (req/s)' : \
        metric eq 'overload_s' ? 'seconds the downstream was overloaded' : \
        metric eq 'worst_excess' ? 'worst excess over the bound (requests)' : \
        metric eq 'bound_breaches' ? 'admissions breaking the bound' : \
        metric eq 'store_calls_per_request' ? 'store calls per request' : 'p99 delay (ms)'
    set output dir.'/'.name.'_'.metric.'.'.fmt
    set title name.': '.t
    load tmp.'/'.metric.'.tics'
    if (n >= 2) {
        set xlabel p1
        set ylabel p2
        set palette rgbformulae 33,13,10
        set cblabel t
        unset key
        plot tmp.'/'.metric.'.dat' using 1:2:3 with image, \
             '' using 1:2:(sprintf('%.4g', $3)) with labels font 'sans,8'
    } else {
        set xlabel p1
        set ylabel t
        set grid
        unset ytics
        set ytics auto
        plot tmp.'/'.metric.'.dat' using 1:3 with linespoints lw 2 pt 7 notitle
    }
}
