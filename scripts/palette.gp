# palette.gp -- one colour per limiter, by its place in run.json's list of
# limiters, in every chart ratelab draws: gnuplot loads this file, and the
# report's interactive charts take their colours from it (embedded at build
# time). Okabe and Ito's colour-blind-safe set ("Color Universal Design",
# 2002) without its yellow, which is hard to see on white, then two of Paul
# Tol's ("muted" wine and teal).
set linetype 1 lc rgb '#0072B2' lw 2
set linetype 2 lc rgb '#D55E00' lw 2
set linetype 3 lc rgb '#009E73' lw 2
set linetype 4 lc rgb '#CC79A7' lw 2
set linetype 5 lc rgb '#E69F00' lw 2
set linetype 6 lc rgb '#56B4E9' lw 2
set linetype 7 lc rgb '#882255' lw 2
set linetype 8 lc rgb '#44AA99' lw 2
set linetype cycle 8
