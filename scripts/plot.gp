# plot.gp -- ratelab's charts from one results directory.
# Called by scripts/plot.sh with: dir, names (space-separated series
# "limiter@backend"), levels (what each series' level is), tagged (1: show
# the backend in labels), tick (seconds per row), fmt ("png" or "svg"), title,
# colours and dashes (per series: its limiter's palette colour, 2 for a
# second backend), dcolours (the deciders' colours), capacity (the
# downstream's, 0 without one), froms and tos (per series its first and
# last data row), dfroms and dtos (the same for the deciders).
# Rows of timeseries.csv are grouped by limiter and backend: a series is
# read as `every ::from(i)::to(i)`, its rows alone.

set datafile separator ','
set datafile columnheaders
set datafile missing NaN
set termoption noenhanced
load 'palette.gp'
lc_of(i) = word(colours, i) + 0
dt_of(i) = word(dashes, i) + 0
ts = dir.'/timeseries.csv'
n = words(names)

if (fmt eq 'png') {
    set terminal pngcairo size 1200,600 font 'sans,10' noenhanced
} else {
    set terminal svg size 1200,600 font 'sans,10' noenhanced
}
set grid
set key outside right top
set xlabel 'time (s)'
# rates as plain numbers (2500, not 2.5e+03); times below as 30 ns, 500 ms, 2 s
set format y '%.0f'

from(i) = word(froms, i) + 0
to(i) = word(tos, i) + 0
dfrom(i) = word(dfroms, i) + 0
dto(i) = word(dtos, i) + 0
per_s(col) = column(col) / tick
label(name) = tagged ? name : name[1:strstrt(name, '@') - 1]

set output outdir.'/plots/offered_admitted.'.fmt
set title title.': offered vs passed downstream (admitted, at release time)'
set ylabel 'requests per second'
plot ts every ::from(1)::to(1) using 't_s':(per_s('offered')) with lines lw 2 lc rgb 'gray60' title 'offered', \
     for [i=1:n] ts every ::from(i)::to(i) using 't_s':(per_s('released')) with lines lw 1.5 lc lc_of(i) dt dt_of(i) title label(word(names, i)), \
     (capacity > 0 ? capacity : NaN) with lines lw 1.5 dt 3 lc rgb '#c62828' title (capacity > 0 ? sprintf("downstream capacity %.0f/s", capacity) : '')

set output outdir.'/plots/dropped.'.fmt
set title title.': dropped'
plot for [i=1:n] ts every ::from(i)::to(i) using 't_s':(per_s('dropped')) with lines lw 1.5 lc lc_of(i) dt dt_of(i) title label(word(names, i))

set output outdir.'/plots/delay.'.fmt
set title title.': delay of admitted requests (p99 solid, p50 dashed)'
set ylabel 'delay'
set format y '%.0s %cs'
plot for [i=1:n] ts every ::from(i)::to(i) using 't_s':(column('delay_p99_us') * 1e-6) with lines lw 1.5 lc lc_of(i) title label(word(names, i)).' p99', \
     for [i=1:n] ts every ::from(i)::to(i) using 't_s':(column('delay_p50_us') * 1e-6) with lines dt 2 lc lc_of(i) notitle
set format y '%.0f'

# A queue decides nothing per request: only the limiters ("deciders") have a latency.
nd = words(deciders)
if (nd > 0) {
    set output outdir.'/plots/latency.'.fmt
    set title title.': decision latency, sampled (p99 solid, p50 dashed)'
    set ylabel 'decision time'
    # seconds with an SI prefix: 30 ns, 1.5 us, 100 ms (never 1e+08)
    set format y '%.0s %cs'
    set logscale y
    plot for [i=1:nd] ts every ::dfrom(i)::dto(i) using 't_s':(column('wall_latency_p99_ns') > 0 ? column('wall_latency_p99_ns') * 1e-9 : NaN) with lines lw 1.5 lc (word(dcolours, i) + 0) title label(word(deciders, i)).' p99', \
         for [i=1:nd] ts every ::dfrom(i)::dto(i) using 't_s':(column('wall_latency_p50_ns') > 0 ? column('wall_latency_p50_ns') * 1e-9 : NaN) with lines dt 2 lc (word(dcolours, i) + 0) notitle
    unset logscale y
    set format y '%.0f'
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
set format y '%g'
set ylabel '% of requests'
set xlabel ''
set xtics rotate by -20
set key inside right top
plot acc using (column('wrongly_allowed_pct') > 0 ? column('wrongly_allowed_pct') : NaN):xtic(strcol('limiter').' ('.strcol('backend').')') title 'wrongly allowed', \
     '' using (column('wrongly_blocked_pct') > 0 ? column('wrongly_blocked_pct') : NaN) title 'wrongly blocked', \
     '' using (column('wrong_pct') > 0 ? column('wrong_pct') : NaN) title 'wrong, in all'
unset logscale y
set yrange [*:*]
set format y '%.0f'
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
    plot ts every ::from(i)::to(i) using 't_s':(per_s('offered')) with lines lc rgb 'gray60' title 'offered', \
         '' every ::from(i)::to(i) using 't_s':(per_s('admitted')) with lines lw 1.5 lc rgb '#1f77b4' title 'admitted', \
         '' every ::from(i)::to(i) using 't_s':(per_s('released')) with lines dt 2 lc rgb '#ff7f0e' title 'released', \
         '' every ::from(i)::to(i) using 't_s':(per_s('dropped')) with lines lc rgb '#d62728' title 'dropped'
}
unset multiplot

set output outdir.'/plots/level.'.fmt
set multiplot layout n,1 title title.': limiter state of the busiest key at each tick end'
do for [i=1:n] {
    name = word(names, i)
    set title label(name).' ('.word(levels, i).')'
    set ylabel 'level'
    plot ts every ::from(i)::to(i) using 't_s':(column('level')) with steps lw 1.5 lc lc_of(i) notitle
}
unset multiplot
