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

# The tests run twice: on the embedded SQLite default, then on PostgreSQL.
cargo test --workspace --locked "$@"

# PostgreSQL: use the server on 127.0.0.1:5432, installing and starting
# Debian's package when there is none. Each test creates its own database,
# named taawounya_test_*, and they are dropped afterwards.
export PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres PGPASSWORD=postgres
if ! pg_isready -q 2>/dev/null; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "installing postgresql"
    if [[ $(id -u) -eq 0 ]]; then apt-get update -qq && apt-get install -y -qq postgresql
    else sudo apt-get update -qq && sudo apt-get install -y -qq postgresql; fi
  fi
  as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
  cluster=$(pg_lsclusters --no-header | awk 'NR == 1 { print $1 " " $2 }')
  # shellcheck disable=SC2086
  as_root pg_ctlcluster $cluster start || true
  for _ in $(seq 30); do pg_isready -q && break; sleep 1; done
  # A fresh cluster requires a password over TCP: give the postgres role
  # the one set above.
  as_root su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\""
fi
drop_test_databases() {
  psql -d postgres -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'taawounya\_test\_%'" |
    while read -r name; do psql -q -d postgres -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)"; done
}
drop_test_databases
TEST_DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres cargo test --workspace --locked "$@"
drop_test_databases

# Browser tests of the verifier and wallet pages (browser-tests/README.md).
(cd browser-tests && npm ci --no-audit --no-fund --loglevel=error)
cargo build --locked --workspace --bins
node browser-tests/run.mjs
# Camera scanning, photo upload and offline checking on the verifier.
node browser-tests/verifier-offline.mjs
