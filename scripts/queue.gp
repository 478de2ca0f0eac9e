# queue.gp -- the reliable queue's chart: what waits and what is in
# processing over time (top), and what arrives against what the consumers
# deliver downstream per second (bottom): the peak shaved, the delay paid.
# Called by scripts/plot.sh with dir, queues (space-separated
# "limiter@backend"), tick (seconds per row), fmt, title, outdir, froms and
# tos (each queue's first and last row of queue.csv).

set datafile separator ','
set datafile columnheaders
set datafile missing NaN
set termoption noenhanced
load 'palette.gp'
qs = dir.'/queue.csv'
n = words(queues)

if (fmt eq 'png') {
    set terminal pngcairo size 1200,800 font 'sans,10' noenhanced
} else {
    set terminal svg size 1200,800 font 'sans,10' noenhanced
}
set output outdir.'/plots/queue.'.fmt
set grid
set key outside right top
set xlabel 'time (s)'
from(i) = word(froms, i) + 0
to(i) = word(tos, i) + 0
per_s(col) = column(col) / tick

set multiplot layout 2,1 title title.': the queue shaves the peak and pays in delay'
set title 'messages waiting (solid) and in processing (dashed)'
set ylabel 'messages'
plot for [i=1:n] qs every ::from(i)::to(i) using 't_s':(column('queued')) with lines lw 2 lc i title word(queues, i).' waiting', \
     for [i=1:n] qs every ::from(i)::to(i) using 't_s':(column('processing')) with lines lw 1 dt 2 lc i title word(queues, i).' processing'
set title 'arrivals (gray) and deliveries to the downstream, retries included'
set ylabel 'per second'
plot qs every ::from(1)::to(1) using 't_s':(per_s('arrived')) with lines lw 2 lc rgb 'gray60' title 'arrived', \
     for [i=1:n] qs every ::from(i)::to(i) using 't_s':(per_s('delivered')) with lines lw 1.5 lc i title word(queues, i).' delivered'
unset multiplot
