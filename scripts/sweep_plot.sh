#!/bin/sh
# sweep_plot.sh SWEEP.csv... -- charts of `ratelab sweep` results into
# <dir of the CSV>/plots/: over two parameters a heatmap per metric (drop %,
# peak admitted per second, p99 delay), over one a line per metric. The
# parameters are the columns between `point` and `offered`; a grid of more
# than two is drawn over its first two, at the first value of the others.
# Without gnuplot: one line, exit 0.
set -eu
[ $# -ge 1 ] || { echo "usage: scripts/sweep_plot.sh SWEEP.csv..." >&2; exit 2; }
gnuplot=${RATELAB_GNUPLOT:-gnuplot}
if ! command -v "$gnuplot" >/dev/null 2>&1; then
    echo "ratelab: gnuplot not found; sweep CSVs written, no plots drawn (apt-get install gnuplot-nox)" >&2
    exit 0
fi
for csv in "$@"; do
    dir=$(dirname "$csv")/plots
    name=$(basename "$csv" .csv)
    mkdir -p "$dir"
    tmp=$(mktemp -d)
    # params, and per metric a matrix of values over grid indices (x: first parameter, y: second)
    params=$(awk -F, 'NR == 1 { for (i = 4; i <= NF && $i != "offered"; i++) printf "%s ", $i; exit }' "$csv")
    n=$(echo "$params" | wc -w)
    for metric in drop_pct peak_admitted_rps delay_p99_us; do
        awk -F, -v metric="$metric" -v n="$n" -v out="$tmp/$metric" '
            NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
            {
                for (k = 3 + n; k > 5; k--) if ($k != first[k]) { if (!(k in first)) first[k] = $k; else next }
                x = $4; y = n > 1 ? $5 : 0; v = $(col[metric]); if (metric == "delay_p99_us") v /= 1000
                if (!(x in xi)) { xi[x] = nx++; xs[nx - 1] = x }
                if (!(y in yi)) { yi[y] = ny++; ys[ny - 1] = y }
                cell[xi[x], yi[y]] = v
            }
            END {
                for (i = 0; i < nx; i++) for (j = 0; j < ny; j++) print i, j, cell[i, j], xs[i], ys[j] > out ".dat"
                printf "set xtics (" > out ".tics"
                for (i = 0; i < nx; i++) printf "%s\"%s\" %d", i ? ", " : "", xs[i], i > out ".tics"
                print ")" > out ".tics"
                printf "set ytics (" > out ".tics"
                for (j = 0; j < ny; j++) printf "%s\"%s\" %d", j ? ", " : "", ys[j], j > out ".tics"
                print ")" > out ".tics"
            }' "$csv"
    done
    p1=$(echo "$params" | awk '{ print $1 }')
    p2=$(echo "$params" | awk '{ print $2 }')
    for fmt in png svg; do
        "$gnuplot" -e "tmp='$tmp'; dir='$dir'; name='$name'; n=$n; p1='$p1'; p2='$p2'; fmt='$fmt'" \
            "$(dirname "$0")/sweep.gp" 2>"$tmp/gnuplot.log" || { cat "$tmp/gnuplot.log" >&2; rm -rf "$tmp"; exit 1; }
    done
    rm -rf "$tmp"
    echo "sweep plots: $dir/${name}_*.{png,svg}"
done
