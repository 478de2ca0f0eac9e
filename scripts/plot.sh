#!/bin/sh
# plot.sh DIR -- draws the PNG and SVG charts of results directory DIR into
# DIR/plots (written beside it first, then moved into place). Without
# gnuplot it says so in one line and exits 0: the CSVs are the result.
# RATELAB_GNUPLOT names another gnuplot (tests use it to play "not installed").
set -eu
dir=${1:?usage: scripts/plot.sh RESULTS_DIR}
here=$(cd "$(dirname "$0")" && pwd)
gnuplot=${RATELAB_GNUPLOT:-gnuplot}
if ! command -v "$gnuplot" >/dev/null 2>&1; then
    echo "ratelab: gnuplot not found; CSVs are in $dir, no plots drawn (apt-get install gnuplot-nox)" >&2
    exit 0
fi
[ -f "$dir/timeseries.csv" ] || { echo "ratelab: $dir/timeseries.csv not found" >&2; exit 1; }

# One series per limiter and backend, in file order ("name@backend"); the
# level each limiter's state is read as (from run.json); one backend: no tag.
names=$(awk -F, 'NR > 1 && !seen[$1 "@" $3]++ { printf "%s@%s ", $1, $3 }' "$dir/timeseries.csv")
deciders=$(awk -F, 'NR > 1 && $2 != "queue" && !seen[$1 "@" $3]++ { printf "%s@%s ", $1, $3 }' "$dir/timeseries.csv")
backends=$(awk -F, 'NR > 1 && !seen[$3]++ { n++ } END { print n + 0 }' "$dir/timeseries.csv")
levels=""
for series in $names; do
    limiter=${series%@*}
    level=$(awk -v want="\"$limiter\"," '/"name":/ { found = index($0, want) > 0 } found && /"level":/ {
              sub(/.*"level":[[:space:]]*"/, ""); sub(/".*/, ""); print; exit }' "$dir/run.json")
    levels="$levels ${level:-level}"
done
# a limiter's colour is its place among the limiters (scripts/palette.gp),
# the same on every backend (a second backend is dashed)
colours=$(echo "$names" | tr ' ' '\n' | awk -F@ 'NF { if (!($1 in at)) at[$1] = ++n; printf "%d ", at[$1] }')
dashes=$(echo "$names" | tr ' ' '\n' | awk -F@ 'NF { printf "%d ", (seen[$1]++ ? 2 : 1) }')
dcolours=$(echo "$deciders" | tr ' ' '\n' | awk -F@ 'NF { print }' | while read -r s; do
    i=1; for n in $names; do [ "$n" = "$s" ] && { echo "$colours" | awk -v i=$i '{ printf "%s ", $i }'; break; }; i=$((i + 1)); done
done)
# rows_of FILE LIMCOL BACKCOL SERIES...: the first and the last data row
# (from 0) of each series, as two lines of numbers in SERIES's order. The
# CSVs write each series' rows together; gnuplot then reads a series with
# `every ::first::last` instead of comparing every row's name (6x faster).
rows_of() {
    awk -F, -v a="$2" -v b="$3" -v want="$4" '
        NR > 1 { s = $a "@" $b; r = NR - 2
                 if (s != cur) { if (s in from) { bad = s; exit 1 } from[s] = r; cur = s }
                 to[s] = r }
        END { if (bad != "") { printf "ratelab: %s: the rows of %s are not together\n", FILENAME, bad > "/dev/stderr"; exit 1 }
              n = split(want, w, " ")
              for (i = 1; i <= n; i++) printf "%d ", from[w[i]]; printf "\n"
              for (i = 1; i <= n; i++) printf "%d ", to[w[i]]; printf "\n" }' "$1"
}
ts_rows=$(rows_of "$dir/timeseries.csv" 1 3 "$names")
froms=$(echo "$ts_rows" | sed -n 1p) tos=$(echo "$ts_rows" | sed -n 2p)
ts_rows=$(rows_of "$dir/timeseries.csv" 1 3 "$deciders")
dfroms=$(echo "$ts_rows" | sed -n 1p) dtos=$(echo "$ts_rows" | sed -n 2p)
capacity=$(sed -n 's/.*"capacity_rps":[[:space:]]*\([0-9.e+]*\).*/\1/p' "$dir/run.json" | head -n 1)
tick=$(awk -F, 'NR == 2 { a = $4 } NR == 3 { print $4 - a; exit }' "$dir/timeseries.csv")
[ -n "$tick" ] || tick=1
title=$(sed -n 's/.*"name":[[:space:]]*"\(.*\)".*/\1/p' "$dir/run.json" | head -n 1 | tr -d "'\\\\")

# gnuplot runs inside the results directory and reads and writes relative
# paths, so no path of the user's is ever quoted into a gnuplot string
# (a directory named "it's" works); its scripts are found by GNUPLOT_LIB.
cd "$dir"
shown=$dir
dir=.
tmp=".plots.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp/plots"
trap 'rm -rf "$tmp"' EXIT
export GNUPLOT_LIB="$here"
# draw WHAT SCRIPT VARIABLES...: one gnuplot run; its complaints and exit 1 on failure
draw() {
    what=$1 script=$2
    shift 2
    "$gnuplot" "$@" "$here/$script" 2>"$tmp/gnuplot.$fmt.log" || {
        echo "ratelab: gnuplot failed on $shown/$what:" >&2
        cat "$tmp/gnuplot.$fmt.log" >&2
        exit 1
    }
}
# every figure of one format; PNG and SVG are drawn at once, one gnuplot each
draw_all() {
    fmt=$1
    # gnuplot writes into $tmp/plots; the CSV is read from $dir
    draw timeseries.csv plot.gp -e "dir='$dir'; names='$names'; deciders='$deciders'; levels='$levels'; tagged=$((backends > 1)); tick=$tick; fmt='$fmt'; title='$title'" \
        -e "outdir='$tmp'; colours='$colours'; dashes='$dashes'; dcolours='$dcolours'; capacity=${capacity:-0}" \
        -e "froms='$froms'; tos='$tos'; dfroms='$dfroms'; dtos='$dtos'"
    if [ -f "$dir/tts.csv" ]; then
        clients=$(awk -F, 'NR > 1 && !seen[$1 "@" $2]++ { printf "%s@%s ", $1, $2 }' "$dir/tts.csv")
        rows=$(rows_of "$dir/timeseries.csv" 1 3 "$clients")
        trows=$(rows_of "$dir/tts.csv" 1 2 "$clients")
        draw tts.csv clients.gp -e "dir='$dir'; names='$clients'; tagged=$((backends > 1)); tick=$tick; fmt='$fmt'; title='$title'; outdir='$tmp'" \
            -e "froms='$(echo "$rows" | sed -n 1p)'; tos='$(echo "$rows" | sed -n 2p)'; tfroms='$(echo "$trows" | sed -n 1p)'; ttos='$(echo "$trows" | sed -n 2p)'"
    fi
    if [ -f "$dir/queue.csv" ]; then
        queues=$(awk -F, 'NR > 1 && !seen[$1 "@" $2]++ { printf "%s@%s ", $1, $2 }' "$dir/queue.csv")
        rows=$(rows_of "$dir/queue.csv" 1 2 "$queues")
        draw queue.csv queue.gp -e "dir='$dir'; queues='$queues'; tick=$tick; fmt='$fmt'; title='$title'; outdir='$tmp'" \
            -e "froms='$(echo "$rows" | sed -n 1p)'; tos='$(echo "$rows" | sed -n 2p)'"
    fi
}
draw_all png &
png=$!
draw_all svg &
svg=$!
failed=0
wait $png || failed=1
wait $svg || failed=1
[ $failed -eq 0 ] || exit 1
rm -rf plots
mv "$tmp/plots" plots
echo "plots: $shown/plots/ ($(ls plots | wc -l) files)"
