#!/bin/sh
# Installs the Debian packages ratelab needs, and only those that are missing.
# Checks with pkg-config (libraries) and command -v (programs) first, so a
# machine that has everything is left untouched and needs no network or root.
set -eu

missing=""
need_pkg() { # $1 = Debian package, $2 = how to tell it is there
    if ! sh -c "$2" >/dev/null 2>&1; then missing="$missing $1"; fi
}

need_pkg make            'command -v make'
need_pkg gcc             'command -v cc'
need_pkg pkg-config      'command -v pkg-config'
need_pkg libhiredis-dev  'pkg-config --exists hiredis'
need_pkg libcjson-dev    'pkg-config --exists libcjson'
need_pkg libcriterion-dev 'pkg-config --exists criterion'
need_pkg gnuplot-nox     'command -v gnuplot'
need_pkg redis-server    'command -v redis-server'
need_pkg redis-tools     'command -v redis-benchmark'
# the report test loads index.html in a real browser, headless
need_pkg chromium        'command -v chromium'
# `make fuzz` (scripts/deps.sh fuzz): libFuzzer comes with clang
[ "${1:-}" = fuzz ] && need_pkg clang 'command -v clang'

[ -z "$missing" ] && exit 0

echo "ratelab: installing missing Debian packages:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1; then
    as_root="sudo"
else
    echo "ratelab: need root or sudo to install:$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$as_root apt-get update -qq
# shellcheck disable=SC2086 # word splitting of the package list is intended
$as_root apt-get install -y -qq --no-install-recommends $missing >/dev/null
