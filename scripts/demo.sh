#!/usr/bin/env bash
# Starts the issuer, the verifier and the wallet on the embedded SQLite
# database with the demo catalogue, cooperatives and members loaded, and
# prints the addresses to open. Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."

export DATA_DIR=${DATA_DIR:-data/demo}
export ISSUER_PLATFORM_TOKEN=${ISSUER_PLATFORM_TOKEN:-demo-platform-token}
export ISSUER_STAFF_TOKEN=${ISSUER_STAFF_TOKEN:-demo-staff-token}
export TRUSTED_ISSUERS=${TRUSTED_ISSUERS:-$DATA_DIR/trusted-issuers.json}
export ISSUER_ADDR=${ISSUER_ADDR:-127.0.0.1:8080}
export VERIFIER_ADDR=${VERIFIER_ADDR:-127.0.0.1:8081}
export WALLET_ADDR=${WALLET_ADDR:-127.0.0.1:8082}
export VERIFIER_PUBLIC_URL=${VERIFIER_PUBLIC_URL:-http://$VERIFIER_ADDR}
mkdir -p "$DATA_DIR"

command -v pkg-config >/dev/null 2>&1 && dpkg -s libssl-dev >/dev/null 2>&1 || {
  echo "pkg-config and libssl-dev are needed to build: apt-get install pkg-config libssl-dev" >&2
  exit 1
}
cargo build --quiet -p issuer -p verifier -p wallet-web
bin=${CARGO_TARGET_DIR:-target}/debug

"$bin/issuer" load-catalogue catalogue/catalogue.json
"$bin/issuer" load-demo catalogue/demo.json
"$bin/issuer" export-trust "$TRUSTED_ISSUERS"

pids=()
stop() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop EXIT INT TERM

"$bin/issuer" serve & pids+=($!)
"$bin/verifier" & pids+=($!)
"$bin/wallet-web" & pids+=($!)

for url in "http://$ISSUER_ADDR/health" "http://$VERIFIER_ADDR/health" "http://$WALLET_ADDR/health"; do
  for _ in $(seq 1 50); do
    curl -fsS "$url" >/dev/null 2>&1 && break
    sleep 0.2
  done
  curl -fsS "$url" >/dev/null || { echo "a service did not start: $url" >&2; exit 1; }
done

cat <<TEXT

TaaWounYa Academy is running (data in $DATA_DIR):
  issuer    http://$ISSUER_ADDR   (DID document: http://$ISSUER_ADDR/.well-known/did.json)
  verifier  http://$VERIFIER_ADDR
  wallet    http://$WALLET_ADDR   (sign-in codes are written to $DATA_DIR/outbox/messages.log)

Learning platform token: $ISSUER_PLATFORM_TOKEN   (bootstrap, scope completions:write)
Staff token:             $ISSUER_STAFF_TOKEN      (bootstrap, every other scope)
Create scoped tokens with: DATA_DIR=$DATA_DIR $bin/issuer tokens create --help
Press Ctrl-C to stop.
TEXT
wait
