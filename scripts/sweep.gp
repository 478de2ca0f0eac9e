# sweep.gp -- one sweep's charts (see sweep_plot.sh): tmp (the prepared
# data: x index, y index, value, x, y, meets the targets, the chosen point),
# dir, name, n (parameters), p1, p2, fmt, metrics (which to draw).
set termoption noenhanced
if (fmt eq 'png') { set terminal pngcairo size 900,650 font 'sans,10' noenhanced } \
else { set terminal svg size 900,650 font 'sans,10' noenhanced }
do for [metric in metrics] {
    t = metric eq 'drop_pct' ? 'requests dropped (%)' : \
        metric eq 'peak_admitted_rps' ? 'peak passed downstream (req/s)' : \
        metric eq 'overload_s' ? 'seconds the downstream was overloaded' : \
        metric eq 'worst_excess' ? 'worst excess over the bound (requests)' : \
        metric eq 'bound_breaches' ? 'admissions breaking the bound' : \
        metric eq 'store_calls_per_request' ? 'store calls per request' : \
        metric eq 'e2e_p99_us' ? 'end-to-end p99 (ms)' : 'p99 delay (ms)'
    set output dir.'/'.name.'_'.metric.'.'.fmt
    set title name.': '.t.(n >= 2 ? ' (white circles: meet the targets; red ring: the chosen point)' : ' (filled: meets the targets; red ring: the chosen point)')
    load tmp.'/'.metric.'.tics'
    if (n >= 2) {
        set xlabel p1
        set ylabel p2
        # viridis, sequential: more is brighter (Smith and van der Walt, matplotlib 2015)
        set palette defined (0 '#440154', 1 '#3b528b', 2 '#21918c', 3 '#5ec962', 4 '#fde725')
        set cblabel t
        set format cb '%g'
        stats tmp.'/'.metric.'.dat' using 3 nooutput
        mid = (STATS_min + STATS_max) / 2
        unset key
        # a value written as a person reads it; dark text on the bright half
        fmtv(v) = (v == int(v) || abs(v) >= 100) ? sprintf('%.0f', v) : abs(v) >= 10 ? sprintf('%.1f', v) : sprintf('%.2f', v)
        plot tmp.'/'.metric.'.dat' using 1:2:3 with image notitle, \
             '' using 1:2:(fmtv($3)):($3 > mid ? 0x000000 : 0xffffff) with labels font 'sans,8' tc rgb variable notitle, \
             '' using ($6 == 1 ? $1 : NaN):2 with points pt 6 ps 3.2 lw 1.5 lc rgb 'white' notitle, \
             '' using ($7 == 1 ? $1 : NaN):2 with points pt 6 ps 4.2 lw 3 lc rgb '#c62828' notitle
    } else {
        set xlabel p1
        set ylabel t
        set grid
        unset ytics
        set ytics auto
        unset key
        plot tmp.'/'.metric.'.dat' using 1:3 with linespoints lw 2 pt 6 lc rgb '#0072B2' notitle, \
             '' using 1:($6 == 1 ? $3 : NaN) with points pt 7 ps 1.3 lc rgb '#0072B2' notitle, \
             '' using 1:($7 == 1 ? $3 : NaN) with points pt 6 ps 3 lw 3 lc rgb '#c62828' notitle
    }
}
