#!/bin/sh
# plot.sh DIR -- draws the PNG and SVG charts of results directory DIR into
# DIR/plots (written beside it first, then moved into place). Without
# gnuplot it says so in one line and exits 0: the CSVs are the result.
# RATELAB_GNUPLOT names another gnuplot (tests use it to play "not installed").
set -eu
dir=${1:?usage: scripts/plot.sh RESULTS_DIR}
here=$(dirname "$0")
gnuplot=${RATELAB_GNUPLOT:-gnuplot}
if ! command -v "$gnuplot" >/dev/null 2>&1; then
    echo "ratelab: gnuplot not found; CSVs are in $dir, no plots drawn (apt-get install gnuplot-nox)" >&2
    exit 0
fi
[ -f "$dir/timeseries.csv" ] || { echo "ratelab: $dir/timeseries.csv not found" >&2; exit 1; }

# Limiter names in file order, and what each one's level measures (from run.json).
names=$(awk -F, 'NR > 1 && !seen[$1]++ { printf "%s ", $1 }' "$dir/timeseries.csv")
levels=$(sed -n 's/.*"level":[[:space:]]*"\(.*\)".*/\1/p' "$dir/run.json" | tr '\n' ' ')
tick=$(awk -F, 'NR == 2 { a = $4 } NR == 3 { print $4 - a; exit }' "$dir/timeseries.csv")
[ -n "$tick" ] || tick=1
title=$(sed -n 's/.*"name":[[:space:]]*"\(.*\)".*/\1/p' "$dir/run.json" | head -n 1)

tmp="$dir/.plots.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp/plots"
trap 'rm -rf "$tmp"' EXIT
for fmt in png svg; do
    # gnuplot writes into $tmp/plots; the CSV is read from $dir
    "$gnuplot" -e "dir='$dir'; names='$names'; levels='$levels'; tick=$tick; fmt='$fmt'; title='$title'" \
        -e "set loadpath '$here'" -e "outdir='$tmp'" "$here/plot.gp" 2>"$tmp/gnuplot.log" || {
        echo "ratelab: gnuplot failed on $dir:" >&2
        cat "$tmp/gnuplot.log" >&2
        exit 1
    }
done
rm -rf "$dir/plots"
mv "$tmp/plots" "$dir/plots"
echo "plots: $dir/plots/ ($(ls "$dir/plots" | wc -l) files)"
