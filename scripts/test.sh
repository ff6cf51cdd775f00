#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: installs what the
# tests need (system packages, the Node.js reference implementation,
# Chromium), then runs the Rust test suite and the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
dpkg -s libssl-dev >/dev/null 2>&1 || need_apt+=(libssl-dev)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
# The browser tests drive Debian's Chromium, and the Noto fonts render the
# Arabic and Tifinagh pages.
[[ -x /usr/bin/chromium ]] || need_apt+=(chromium fonts-noto-core)
# The wallet's PDF tests read certificates back with pdftotext, pdftoppm
# and pdfdetach.
command -v pdftotext >/dev/null 2>&1 || need_apt+=(poppler-utils)
if ((${#need_apt[@]})); then
  echo "installing ${need_apt[*]}"
  if [[ $(id -u) -eq 0 ]]; then apt-get update -qq && apt-get install -y -qq "${need_apt[@]}"
  else sudo apt-get update -qq && sudo apt-get install -y -qq "${need_apt[@]}"; fi
fi

# The independent JavaScript implementation the interoperability tests run.
(cd interop && npm ci --no-audit --no-fund --loglevel=error)

cargo test --workspace --locked "$@"

# Browser tests of the verifier and wallet pages (browser-tests/README.md).
(cd browser-tests && npm ci --no-audit --no-fund --loglevel=error)
cargo build --locked -p issuer -p verifier -p wallet-web
node browser-tests/run.mjs
