#!/bin/sh
# regress.sh [--update] -- runs every shipped scenario and compares each
# summary with tests/golden/<scenario>.csv (ratelab compare). Both backends
# when redis-server is installed (a private server per run), memory alone
# otherwise. Any drift or oracle violation fails.
set -u
cd "$(dirname "$0")/.."
update=""
[ "${1:-}" = "--update" ] && update="--update"
backend=memory
command -v redis-server >/dev/null 2>&1 && backend=memory,redis
mkdir -p build/regress tests/golden
failed=0
checked=0
for f in scenarios/*.json; do
    name=$(basename "$f" .json)
    if ! ./ratelab run "$f" --backend "$backend" --out "build/regress/$name" --quiet --run-id "regress_$name"; then
        echo "regress: $name: the run failed" >&2
        failed=$((failed + 1))
        continue
    fi
    checked=$((checked + 1))
    if [ -n "$update" ]; then
        ./ratelab compare "build/regress/$name/summary.csv" "tests/golden/$name.csv" --update || failed=$((failed + 1))
    elif ! ./ratelab compare "build/regress/$name/summary.csv" "tests/golden/$name.csv"; then
        failed=$((failed + 1))
    fi
done
echo "regress: $checked scenarios on $backend, $failed failing"
[ "$failed" -eq 0 ]
