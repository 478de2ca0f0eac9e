#!/bin/sh
# regress.sh [--update] -- runs every shipped scenario and compares each
# summary with tests/golden/<scenario>.csv (ratelab compare). Both backends
# when redis-server is installed (a private server per run), memory alone
# otherwise. Any drift or oracle violation fails. One progress line per
# scenario; results/regress/junit.xml for CI dashboards (a testcase per
# scenario, its time, and the drift or failure as its message).
set -u
cd "$(dirname "$0")/.."
update=""
[ "${1:-}" = "--update" ] && update="--update"
backend=memory
command -v redis-server >/dev/null 2>&1 && backend=memory,redis
mkdir -p build/regress tests/golden results/regress
failed=0
checked=0
total=$(ls scenarios/*.json | wc -l)
cases=build/regress/junit-cases.xml
: >"$cases"
started=$(date +%s)
# xml TEXT: TEXT escaped for an XML attribute or element
xml() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'; }
i=0
for f in scenarios/*.json; do
    name=$(basename "$f" .json)
    i=$((i + 1))
    t0=$(date +%s.%N)
    log=build/regress/$name.log
    status=ok
    if ! ./ratelab run "$f" --backend "$backend" --out "build/regress/$name" --quiet --run-id "regress_$name" >"$log" 2>&1; then
        status="the run failed"
    else
        checked=$((checked + 1))
        if [ -n "$update" ]; then
            ./ratelab compare "build/regress/$name/summary.csv" "tests/golden/$name.csv" --update >>"$log" 2>&1 ||
                status="the update failed"
        elif ! ./ratelab compare "build/regress/$name/summary.csv" "tests/golden/$name.csv" >>"$log" 2>&1; then
            status="drift from tests/golden/$name.csv"
        fi
    fi
    seconds=$(echo "$(date +%s.%N) $t0" | awk '{ printf "%.1f", $1 - $2 }')
    echo "regress [$i/$total] $name: $status ($seconds s)"
    [ -n "$update" ] && [ "$status" = ok ] && grep "^tests/golden" "$log" | tail -n 5
    if [ "$status" = ok ]; then
        echo "  <testcase classname=\"regress.$backend\" name=\"$name\" time=\"$seconds\"/>" >>"$cases"
    else
        failed=$((failed + 1))
        cat "$log" >&2
        { echo "  <testcase classname=\"regress.$backend\" name=\"$name\" time=\"$seconds\">"
          echo "    <failure message=\"$(echo "$status" | xml)\">$(tail -n 40 "$log" | xml)</failure>"
          echo "  </testcase>"; } >>"$cases"
    fi
done
{ echo '<?xml version="1.0" encoding="UTF-8"?>'
  echo "<testsuite name=\"ratelab regress\" tests=\"$total\" failures=\"$failed\" time=\"$(($(date +%s) - started))\">"
  cat "$cases"
  echo '</testsuite>'; } >results/regress/junit.xml
echo "regress: $checked scenarios on $backend, $failed failing (results/regress/junit.xml)"
[ "$failed" -eq 0 ]
