# plot.gp -- ratelab's charts from one results directory.
# Called by scripts/plot.sh with: dir, names (space-separated series
# "limiter@backend"), levels (what each series' level is), tagged (1: show
# the backend in labels), tick (seconds per row), fmt ("png" or "svg"), title.
# Rows of timeseries.csv are grouped by limiter and backend; a row of
# another series becomes NaN, so each series draws one unbroken line.

set datafile separator ','
set datafile columnheaders
set datafile missing NaN
set termoption noenhanced
ts = dir.'/timeseries.csv'
n = words(names)
first = word(names, 1)

if (fmt eq 'png') {
    set terminal pngcairo size 1200,600 font 'sans,10' noenhanced
} else {
    set terminal svg size 1200,600 font 'sans,10' noenhanced
}
set grid
set key outside right top
set xlabel 'time (s)'

series(dummy) = strcol('limiter').'@'.strcol('backend')
pick(name, col) = series(0) eq name ? column(col) : NaN
per_s(name, col) = series(0) eq name ? column(col) / tick : NaN
label(name) = tagged ? name : name[1:strstrt(name, '@') - 1]

set output outdir.'/plots/offered_admitted.'.fmt
set title title.': offered vs passed downstream (admitted, at release time)'
set ylabel 'requests per second'
plot ts using 't_s':(per_s(first, 'offered')) with lines lw 2 lc rgb 'gray60' title 'offered', \
     for [i=1:n] ts using 't_s':(per_s(word(names, i), 'released')) with lines lw 1.5 title label(word(names, i))

set output outdir.'/plots/dropped.'.fmt
set title title.': dropped'
plot for [i=1:n] ts using 't_s':(per_s(word(names, i), 'dropped')) with lines lw 1.5 title label(word(names, i))

set output outdir.'/plots/delay.'.fmt
set title title.': delay of admitted requests (p99 solid, p50 dashed)'
set ylabel 'delay (ms)'
plot for [i=1:n] ts using 't_s':(pick(word(names, i), 'delay_p99_us') / 1000.0) with lines lw 1.5 lc i title label(word(names, i)).' p99', \
     for [i=1:n] ts using 't_s':(pick(word(names, i), 'delay_p50_us') / 1000.0) with lines dt 2 lc i notitle

# A queue decides nothing per request: only the limiters ("deciders") have a latency.
nd = words(deciders)
if (nd > 0) {
    set output outdir.'/plots/latency.'.fmt
    set title title.': decision latency, sampled (p99 solid, p50 dashed)'
    set ylabel 'ns'
    set logscale y
    plot for [i=1:nd] ts using 't_s':(pick(word(deciders, i), 'wall_latency_p99_ns') > 0 ? pick(word(deciders, i), 'wall_latency_p99_ns') : NaN) with lines lw 1.5 lc i title label(word(deciders, i)).' p99', \
         for [i=1:nd] ts using 't_s':(pick(word(deciders, i), 'wall_latency_p50_ns') > 0 ? pick(word(deciders, i), 'wall_latency_p50_ns') : NaN) with lines dt 2 lc i notitle
    unset logscale y
}

# Accuracy of the approximations against the exact sliding log, and
# Cloudflare's published figure for its counter (accuracy.csv).
acc = dir.'/accuracy.csv'
set output outdir.'/plots/accuracy.'.fmt
set title title.': decisions unlike the exact sliding log (log scale; reference: Cloudflare 2017)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y
set yrange [0.001:100]
set ylabel '% of requests'
set xlabel ''
set xtics rotate by -20
set key inside right top
plot acc using (column('wrongly_allowed_pct') > 0 ? column('wrongly_allowed_pct') : NaN):xtic(strcol('limiter').' ('.strcol('backend').')') title 'wrongly allowed', \
     '' using (column('wrongly_blocked_pct') > 0 ? column('wrongly_blocked_pct') : NaN) title 'wrongly blocked', \
     '' using (column('wrong_pct') > 0 ? column('wrong_pct') : NaN) title 'wrong, in all'
unset logscale y
set yrange [*:*]
set xtics norotate
set style data lines
set xlabel 'time (s)'
set key outside right top

# One panel per limiter: what it was offered, admitted, released, dropped.
panel_h = 260
if (fmt eq 'png') {
    set terminal pngcairo size 1200,(panel_h * n + 40) font 'sans,10' noenhanced
} else {
    set terminal svg size 1200,(panel_h * n + 40) font 'sans,10' noenhanced
}
set output outdir.'/plots/panels.'.fmt
set multiplot layout n,1 title title.': per limiter (requests per second)'
set ylabel 'req/s'
set key inside right top
do for [i=1:n] {
    name = word(names, i)
    set title label(name)
    plot ts using 't_s':(per_s(name, 'offered')) with lines lc rgb 'gray60' title 'offered', \
         ts using 't_s':(per_s(name, 'admitted')) with lines lw 1.5 lc rgb '#1f77b4' title 'admitted', \
         ts using 't_s':(per_s(name, 'released')) with lines dt 2 lc rgb '#ff7f0e' title 'released', \
         ts using 't_s':(per_s(name, 'dropped')) with lines lc rgb '#d62728' title 'dropped'
}
unset multiplot

set output outdir.'/plots/level.'.fmt
set multiplot layout n,1 title title.': limiter state of the busiest key at each tick end'
do for [i=1:n] {
    name = word(names, i)
    set title label(name).' ('.word(levels, i).')'
    set ylabel 'level'
    plot ts using 't_s':(pick(name, 'level')) with steps lw 1.5 lc rgb '#2ca02c' notitle
}
unset multiplot
