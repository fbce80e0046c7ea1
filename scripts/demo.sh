#!/usr/bin/env bash
# make demo: the default charter compiled, then enforced on example manifests.
set -uo pipefail
cd "$(dirname "$0")/.."
CHARTER=./bin/charter
OUT=.demo
mkdir -p "$OUT"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "validate the shipped charters"
$CHARTER validate policies/ || exit 1

step "compile the Anti-Delos charter into an OPA bundle"
$CHARTER build -o "$OUT/anti-delos.tar.gz" policies/anti-delos.yaml || exit 1
tar -tzf "$OUT/anti-delos.tar.gz" | sed 's/^/    /'

step "run every article's inline tests"
$CHARTER test policies/anti-delos.yaml | tail -n 3 || exit 1

step "evaluate example manifests against the bundle"
$CHARTER eval --bundle "$OUT/anti-delos.tar.gz" examples/manifests/
code=$?
echo "(charter eval exit code $code: 0 allowed, 1 denied, 2 bad input)"
[ "$code" -le 1 ] || exit 1
