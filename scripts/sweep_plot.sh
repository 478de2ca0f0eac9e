#!/bin/sh
# sweep_plot.sh DIR -- charts of the `ratelab sweep` results in DIR into
# DIR/plots/:
#  - per limiter CSV (<limiter>.csv): over two parameters a heatmap per
#    metric (drop %, peak admitted per second, p99 delay, and overload
#    seconds and end-to-end p99 when the scenario has a downstream), over
#    one a line per metric. A sequential colour map (viridis), each cell's
#    value written on it, the cells that meet the targets marked with a
#    white circle and the limiter's chosen point ringed in red (from
#    _points.csv). A metric that is the same at every point is not drawn:
#    <limiter>_<metric>.txt says so in one sentence, which the report shows.
#    The parameters are the columns between `point` and `offered`; a grid of
#    more than two is drawn over its first two, at the first value of the
#    others;
#    A fleet's grid draws the worst excess over the bound, the breaches,
#    the store calls per request and the drops instead, and the price of
#    coordination: worst excess against store calls per request, a line per
#    value of the first parameter (coordination.gp);
#  - from _points.csv (every limiter's points, judged by `ratelab sweep`):
#    the Pareto scatter of drops against peak admitted load and against p99,
#    each limiter in its own colour, target-meeting points filled, the front
#    drawn as a line and each limiter's best point ringed.
# Without gnuplot: one line, exit 0.
set -eu
[ $# -eq 1 ] && [ -d "$1" ] || { echo "usage: scripts/sweep_plot.sh SWEEP_DIR" >&2; exit 2; }
sweep=$1
here=$(cd "$(dirname "$0")" && pwd)
gnuplot=${RATELAB_GNUPLOT:-gnuplot}
if ! command -v "$gnuplot" >/dev/null 2>&1; then
    echo "ratelab: gnuplot not found; sweep CSVs written, no plots drawn (apt-get install gnuplot-nox)" >&2
    exit 0
fi
# gnuplot runs inside the sweep directory on relative paths, so no path of
# the user's is quoted into a gnuplot string (a directory named "it's" works)
shown=$sweep
cd "$sweep"
export GNUPLOT_LIB="$here"   # palette.gp: one colour per limiter, as on every chart
sweep=.
dir=plots
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for csv in "$sweep"/*.csv; do
    name=$(basename "$csv" .csv)
    case $name in _*) continue ;; esac   # _points.csv, _traffic.csv: not a limiter's grid
    # params, and per metric a matrix of values over grid indices (x: first parameter, y: second)
    params=$(awk -F, 'NR == 1 { for (i = 4; i <= NF && $i != "offered"; i++) printf "%s ", $i; exit }' "$csv")
    n=$(echo "$params" | wc -w)
    metrics="drop_pct peak_admitted_rps delay_p99_us"
    # overload_s is empty throughout when the scenario has no downstream
    if awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "overload_s") c = i; next } $c >= 0 { found = 1; exit }
                END { exit !found }' "$csv"; then
        metrics="$metrics overload_s e2e_p99_us"
    fi
    # a fleet's grid (nodes > 0): what coordination buys and costs
    fleet=0
    if awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "nodes") c = i; next } c && $c > 0 { found = 1; exit }
                END { exit !found }' "$csv"; then
        fleet=1
        metrics="worst_excess bound_breaches store_calls_per_request drop_pct"
    fi
    varying=""
    for metric in $metrics; do
        # _points.csv (if the sweep was judged): 1 limiter, 3 point, 13 meets, 17 best
        awk -F, -v metric="$metric" -v n="$n" -v out="$tmp/$metric" -v lim="$name" '
            FILENAME != ARGV[ARGC - 1] { if (FNR > 1 && $1 == lim) { meets[$3] = $13; best[$3] = $17 } next }
            FNR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
            {
                for (k = 3 + n; k > 5; k--) if ($k != first[k]) { if (!(k in first)) first[k] = $k; else next }
                x = $4; y = n > 1 ? $5 : 0; v = $(col[metric]); if (metric ~ /_us$/) v /= 1000
                if (!(x in xi)) { xi[x] = nx++; xs[nx - 1] = x }
                if (!(y in yi)) { yi[y] = ny++; ys[ny - 1] = y }
                cell[xi[x], yi[y]] = v
                ok[xi[x], yi[y]] = meets[$3] + 0
                chosen[xi[x], yi[y]] = best[$3] + 0
                if (!seen++ || v < lo) lo = v
                if (seen == 1 || v > hi) hi = v
            }
            END {
                for (i = 0; i < nx; i++) for (j = 0; j < ny; j++)
                    print i, j, cell[i, j], xs[i], ys[j], ok[i, j], chosen[i, j] > out ".dat"
                print (lo == hi ? "same " lo : "varies") > out ".range"
                printf "set xtics (" > out ".tics"
                for (i = 0; i < nx; i++) printf "%s\"%s\" %d", i ? ", " : "", xs[i], i > out ".tics"
                print ")" > out ".tics"
                printf "set ytics (" > out ".tics"
                for (j = 0; j < ny; j++) printf "%s\"%s\" %d", j ? ", " : "", ys[j], j > out ".tics"
                print ")" > out ".tics"
            }' $( [ -f _points.csv ] && echo _points.csv ) "$csv"
        read -r how value <"$tmp/$metric.range"
        if [ "$how" = same ]; then
            # a constant map on a meaningless scale says nothing a sentence does not
            what=$(echo "$metric" | sed 's/_us$/ (ms)/; s/_/ /g')
            echo "$name: $what is $value at every point of the grid: not drawn." >"$dir/${name}_$metric.txt"
        else
            varying="$varying $metric"
            rm -f "$dir/${name}_$metric.txt"
        fi
    done
    metrics=$varying
    [ -n "$metrics" ] || continue
    p1=$(echo "$params" | awk '{ print $1 }')
    p2=$(echo "$params" | awk '{ print $2 }')
    for fmt in png svg; do
        "$gnuplot" -e "tmp='$tmp'; dir='$dir'; name='$name'; n=$n; p1='$p1'; p2='$p2'; fmt='$fmt'; metrics='$metrics'" \
            "$here/sweep.gp" 2>"$tmp/gnuplot.log" || { cat "$tmp/gnuplot.log" >&2; exit 1; }
    done
    if [ $fleet = 1 ]; then   # the price of coordination: worst excess against store calls, a line per first parameter
        awk -F, -v n="$n" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
            { print $4, (n > 1 ? $5 : ""), $(col["store_calls_per_request"]), $(col["worst_excess"]) }' "$csv" |
            sort -k1,1g -k3,3g >"$tmp/price.dat"
        for fmt in png svg; do
            "$gnuplot" -e "tmp='$tmp'; dir='$dir'; name='$name'; p1='$p1'; p2='$p2'; fmt='$fmt'" \
                "$here/coordination.gp" 2>"$tmp/gnuplot.log" || { cat "$tmp/gnuplot.log" >&2; exit 1; }
        done
    fi
    echo "sweep plots: $shown/$dir/${name}_*.{png,svg}"
done

points=_points.csv
[ -f "$points" ] || exit 0
# The limiters in file order, and each front sorted along its x axis so it
# draws as a line: load front (peak rps, drop %) and delay front (p99, drop %).
limiters=$(awk -F, 'NR > 1 && !seen[$1]++ { printf "%s ", $1 }' "$points")
awk -F, 'NR > 1 && $15 == 1 { print $7 "," $5 }' "$points" | sort -t, -g -k1,1 -k2,2 >"$tmp/front_load.dat"
awk -F, 'NR > 1 && $16 == 1 { print $11 "," $5 }' "$points" | sort -t, -g -k1,1 -k2,2 >"$tmp/front_delay.dat"
# what p99 means here: end to end with a downstream (e2e_p99_ms present), else the limiter's delay
p99=$(awk -F, 'NR == 2 { print ($10 == "" ? "limiter delay" : "end-to-end latency"); exit }' "$points")
for fmt in png svg; do
    "$gnuplot" -e "points='$points'; tmp='$tmp'; dir='$dir'; limiters='$limiters'; p99label='$p99'; fmt='$fmt'" \
        "$here/pareto.gp" 2>"$tmp/gnuplot.log" || { cat "$tmp/gnuplot.log" >&2; exit 1; }
done
echo "pareto plots: $shown/$dir/pareto_{load,delay}.{png,svg}"
