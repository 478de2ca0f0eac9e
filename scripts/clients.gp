# clients.gp -- what clients who come back did, from one results directory.
# Called by scripts/plot.sh with: dir, names (series "limiter@backend"),
# tagged, tick (seconds per row), fmt, title, outdir, froms and tos (each
# series' first and last row of timeseries.csv), tfroms and ttos (of tts.csv).
# attempts.<fmt>: per limiter, attempts per second (first attempts and
# retries) against intents per second (first attempts alone): the gap is
# the retries. tts_cdf.<fmt>: the share of successful intents admitted
# within a time of their first attempt.

set datafile separator ','
set datafile columnheaders
set datafile missing NaN
set termoption noenhanced
load 'palette.gp'
ts = dir.'/timeseries.csv'
tts = dir.'/tts.csv'
n = words(names)
from(i) = word(froms, i) + 0
to(i) = word(tos, i) + 0
tfrom(i) = word(tfroms, i) + 0
tto(i) = word(ttos, i) + 0
per_s(col) = column(col) / tick
label(name) = tagged ? name : name[1:strstrt(name, '@') - 1]

panel_h = 240
if (fmt eq 'png') {
    set terminal pngcairo size 1200,(panel_h * n + 40) font 'sans,10' noenhanced
} else {
    set terminal svg size 1200,(panel_h * n + 40) font 'sans,10' noenhanced
}
set grid
set output outdir.'/plots/attempts.'.fmt
set multiplot layout n,1 title title.': attempts (first attempts and retries) against intents, per second'
set key inside right top
set xlabel 'time (s)'
set ylabel 'per second'
do for [i=1:n] {
    name = word(names, i)
    set title label(name)
    plot ts every ::from(i)::to(i) using 't_s':(per_s('offered')) with lines lw 1.5 lc rgb '#d62728' title 'attempts', \
         '' every ::from(i)::to(i) using 't_s':(per_s('intents')) with lines lw 1.5 lc rgb 'gray40' title 'intents', \
         '' every ::from(i)::to(i) using 't_s':(per_s('admitted')) with lines lc rgb '#1f77b4' title 'admitted'
}
unset multiplot

if (fmt eq 'png') {
    set terminal pngcairo size 1200,600 font 'sans,10' noenhanced
} else {
    set terminal svg size 1200,600 font 'sans,10' noenhanced
}
set output outdir.'/plots/tts_cdf.'.fmt
set title title.': time to success (first attempt to admitted), successful intents'
set xlabel 'time to success (ms)'
set ylabel 'share of successes (%)'
set key outside right top
set yrange [0:100]
set logscale x
set xrange [0.1:*]
plot for [i=1:n] tts every ::tfrom(i)::tto(i) using (column('tts_ms') > 0.1 ? column('tts_ms') : 0.1):'percentile' with steps lw 1.5 title label(word(names, i))
