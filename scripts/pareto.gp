# pareto.gp -- the Pareto scatter of a sweep (see sweep_plot.sh): points
# (_points.csv), tmp (the sorted fronts), dir, limiters (names in file
# order), p99label, fmt. Columns of _points.csv: 1 limiter, 5 drop_pct,
# 7 peak_rps, 11 p99_ms, 13 meets, 17 best.
set termoption noenhanced
load 'palette.gp'
if (fmt eq 'png') { set terminal pngcairo size 1000,650 font 'sans,10' noenhanced } \
else { set terminal svg size 1000,650 font 'sans,10' noenhanced }
set datafile separator ','
set key outside right top
set grid
set ylabel 'requests dropped (%)'
nl = words(limiters)
is(i) = strcol(1) eq word(limiters, i)
# circle, square, triangle, diamond, inverted triangle: open and filled
open(i) = word("6 4 8 12 10", (i - 1) % 5 + 1) + 0
filled(i) = open(i) + 1
# earlier limiters drawn larger, so one on the same point as a later one
# (token bucket and GCRA are the same algorithm) still shows around it
size(i) = 1.9 - 0.6 * (i - 1) / (nl > 1 ? nl - 1 : 1)
do for [front in "load delay"] {
    set output dir.'/pareto_'.front.'.'.fmt
    if (front eq 'load') {
        set title 'drops against the peak passed downstream: filled points meet the targets, the line is the Pareto front'
        set xlabel 'peak admitted (req/s)'
        unset logscale x
        xcol = 7
    } else {
        set title 'drops against p99 '.p99label.': filled points meet the targets, the line is the Pareto front'
        set xlabel 'p99 '.p99label.' (ms, log scale)'
        set logscale x
        xcol = 11
    }
    # p99 can be 0 (a dropper has no delay): drawn at 0.01 ms on the log axis
    xv(c) = (c == 11 && column(c) <= 0) ? 0.01 : column(c)
    # a shape per limiter too, so equal points of two limiters (token
    # bucket and GCRA are the same algorithm) both show
    plot for [i=1:nl] points every ::1 using (is(i) && column(13) == 1 ? xv(xcol) : NaN):5 \
             with points pt filled(i) ps size(i) lc i title word(limiters, i), \
         for [i=1:nl] points every ::1 using (is(i) && column(13) != 1 ? xv(xcol) : NaN):5 \
             with points pt open(i) ps size(i) lc i notitle, \
         points every ::1 using (column(17) == 1 ? xv(xcol) : NaN):5 with points pt 6 ps 3 lw 2 lc rgb 'black' \
             title 'best of each limiter', \
         tmp.'/front_'.front.'.dat' using ($1 <= 0 ? 0.01 : $1):2 with steps lw 1.5 dt 2 lc rgb 'black' \
             title 'Pareto front' 
}
