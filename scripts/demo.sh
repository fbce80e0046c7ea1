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

step "sign the bundle with a cosign-format key, then verify it (docs/signing.md)"
# A demo-only password; real keys take theirs from a secret store or a prompt.
export COSIGN_PASSWORD=demo-only-password
[ -e "$OUT/signing.key" ] || $CHARTER keys generate --out "$OUT/signing" || exit 1
$CHARTER bundle sign --key "$OUT/signing.key" "$OUT/anti-delos.tar.gz" || exit 1
$CHARTER bundle verify --key "$OUT/signing.pub" "$OUT/anti-delos.tar.gz" || exit 1

step "run every article's inline tests"
$CHARTER test policies/anti-delos.yaml | tail -n 3 || exit 1

step "evaluate example manifests against the bundle"
$CHARTER eval --bundle "$OUT/anti-delos.tar.gz" examples/manifests/
code=$?
echo "(charter eval exit code $code: 0 allowed, 1 denied, 2 bad input)"
[ "$code" -le 1 ] || exit 1

step "admission: the same bundle enforced by the webhook over real TLS"
$CHARTER webhook certs --out "$OUT/certs" --service charter-webhook --namespace charter-system || exit 1
PORT=${DEMO_PORT:-18443}
$CHARTER webhook serve --bundle "$OUT/anti-delos.tar.gz" --verify-key "$OUT/signing.pub" --tls-cert "$OUT/certs/tls.crt" --tls-key "$OUT/certs/tls.key" \
  --listen "127.0.0.1:$PORT" --namespace charter-system --audit-log "$OUT/decisions.jsonl" --audit-key "$OUT/signing.key" --audit-sync 2> "$OUT/webhook.log" &
WEBHOOK=$!
trap 'kill $WEBHOOK 2>/dev/null' EXIT
for _ in $(seq 1 100); do
  curl -sf --cacert "$OUT/certs/ca.crt" "https://127.0.0.1:$PORT/readyz" >/dev/null && break
  sleep 0.1
done
curl -sf --cacert "$OUT/certs/ca.crt" "https://127.0.0.1:$PORT/readyz" >/dev/null || { echo "webhook did not become ready:"; cat "$OUT/webhook.log"; exit 1; }
echo "webhook ready on https://127.0.0.1:$PORT (CA $OUT/certs/ca.crt)"
$CHARTER webhook review --server "https://127.0.0.1:$PORT/validate" --ca "$OUT/certs/ca.crt" \
  examples/manifests/01-checkout-compliant.yaml examples/manifests/02-privileged-daemonset.yaml \
  examples/manifests/04-nodeport-service.yaml examples/manifests/09-warnings-only.yaml
code=$?
[ "$code" -le 1 ] || exit 1
kill -TERM $WEBHOOK && wait $WEBHOOK 2>/dev/null
trap - EXIT
echo "webhook stopped; $(wc -l < "$OUT/decisions.jsonl") decisions in $OUT/decisions.jsonl"

step "audit: the webhook's decision log is tamper-evident (Merkle tree + checkpoints)"
$CHARTER audit verify --key "$OUT/signing.pub" "$OUT/decisions.jsonl" || exit 1
