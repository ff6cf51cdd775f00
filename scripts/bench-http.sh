#!/usr/bin/env bash
# HTTP benchmark of the verifier: starts a release build on loopback and
# drives POST /credentials/verify from a second process at 1, 8 and 64
# concurrent clients, next to GET /health measured the same way.
#   scripts/bench-http.sh [SECONDS] [CLIENTS]
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-10}
clients=${2:-1,8,64}
port=${BENCH_PORT:-28180}
target=${CARGO_TARGET_DIR:-target}

cargo build --release --locked --workspace --bins --examples

work=$(mktemp -d)
trap 'kill "$verifier" 2>/dev/null || true; rm -rf "$work"' EXIT
# No trusted issuer: the credentials below verify in full (proof, keys,
# dates) and end with "issuer not recognised", and none names a status
# list, so nothing is fetched.
echo '[]' > "$work/trusted-issuers.json"
VERIFIER_ADDR=127.0.0.1:$port TRUSTED_ISSUERS=$work/trusted-issuers.json RUST_LOG=warn \
  "$target/release/verifier" > "$work/verifier.log" 2>&1 &
verifier=$!
for _ in $(seq 50); do
  curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 0.2
done

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
fixtures=fixtures/dcc-fixtures/verifiableCredentials/v2
for credential in \
  "$fixtures/dataIntegrityProof/didKey/legacyRegistry-noStatus-noExpiry-basicOBv3.json" \
  "$fixtures/dataIntegrityProof/didKey/oidf-noStatus-notExpired-complexIssuer.json"; do
  echo
  echo "## $(basename "$credential")"
  "$target/release/examples/load" "http://127.0.0.1:$port" "$credential" "$seconds" "$clients"
done
