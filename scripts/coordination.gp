# coordination.gp -- a fleet sweep's price of coordination (see
# sweep_plot.sh): tmp/price.dat holds "first second calls excess" per
# point, sorted by the first parameter, then by calls; a line per value of
# the first parameter (p1), its points labelled with the second (p2).
set termoption noenhanced
if (fmt eq 'png') { set terminal pngcairo size 900,650 font 'sans,10' noenhanced } \
else { set terminal svg size 900,650 font 'sans,10' noenhanced }
set output dir.'/'.name.'_price.'.fmt
set title name.': the price of coordination'
set xlabel 'store calls per request'
set ylabel 'worst excess over the bound (requests)'
set logscale x
set grid
set key top right title p1
firsts = system("awk '{ print $1 }' ".tmp."/price.dat | uniq | tr '\\n' ' '")
plot for [v in firsts] tmp.'/price.dat' using ($1 == v + 0 ? $3 : NaN):4 with linespoints lw 2 pt 7 title v, \
     for [v in firsts] '' using ($1 == v + 0 ? $3 : NaN):4:(p2 eq '' ? '' : p2.'='.strcol(2)) with labels \
         offset 0.8,0.6 font 'sans,8' notitle
