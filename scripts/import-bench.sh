#!/usr/bin/env bash
# Measures the rate of `issuer import-completions` on a generated export.
# The script loads the catalogue, the demo cooperatives and enough
# generated members into a new data folder, and writes a CSV of ROWS
# completions (default 100000). It imports the CSV twice and prints the
# rows per second of each pass. The first pass signs and stores a
# credential per row, 100 rows per transaction (BATCH_ROWS changes it).
# The second pass finds every row already imported. A reference pass then
# imports the first tenth of the rows into a second new database, one row
# per transaction.
#
#   bash scripts/import-bench.sh [ROWS]
#
# It uses SQLite in the new data folder unless DATABASE_URL names a
# PostgreSQL database, which must not exist yet, and neither may the
# same name with `_reference` added, for the reference pass. The issuer
# creates both, and the script leaves them in place. The release build
# goes to $CARGO_TARGET_DIR (default `target`), and BENCH_DIR chooses the
# data folder (default: a new temporary folder).
set -euo pipefail
cd "$(dirname "$0")/.."

rows=${1:-100000}
if ! [[ $rows =~ ^[1-9][0-9]*$ ]]; then
  echo "ROWS must be a positive whole number, got '$rows'" >&2
  exit 1
fi

CARGO_INCREMENTAL=0 nice -n 19 cargo build --quiet --release --workspace --bins --locked
bin=${CARGO_TARGET_DIR:-target}/release

export DATA_DIR=${BENCH_DIR:-$(mktemp -d -t import-bench.XXXXXX)}
mkdir -p "$DATA_DIR"
if [[ -n $(ls -A "$DATA_DIR") ]]; then
  echo "$DATA_DIR is not empty: set BENCH_DIR to a new or empty folder" >&2
  exit 1
fi

# Every member completes every module once, so that no row repeats a
# (member, module) pair and each member also completes every learning path.
mapfile -t modules < <(python3 -c '
import json, sys
for module in json.load(open(sys.argv[1]))["modules"]:
    print(module["id"])
' catalogue/catalogue.json)
members=$(((rows + ${#modules[@]} - 1) / ${#modules[@]}))
echo "$rows rows: $members members x ${#modules[@]} modules, data in $DATA_DIR"

python3 - "$members" "$DATA_DIR/members.json" <<'PY'
import json, sys
count, output = int(sys.argv[1]), sys.argv[2]
cooperatives = [c["id"] for c in json.load(open("catalogue/demo.json"))["cooperatives"]]
members = [
    {
        "id": f"bench-{n:06d}",
        "cooperative": cooperatives[n % len(cooperatives)],
        "name_ar": f"عضو {n}",
        "name_latin": f"Member {n}",
        "email": f"bench-{n:06d}@example.org",
        "phone": None,
        "role": "member",
    }
    for n in range(1, count + 1)
]
json.dump({"cooperatives": [], "members": members}, open(output, "w"))
PY

# Completed a week ago, so that modules with a validity period are still
# valid and no date is in the future.
completed_on=$(date -u -d '7 days ago' +%F)
csv=$DATA_DIR/completions.csv
awk -v rows="$rows" -v date="$completed_on" -v list="${modules[*]}" 'BEGIN {
  count = split(list, module, " ")
  print "member_id,module_id,completed_on,score,evidence_url"
  for (row = 0; row < rows; row++) {
    printf "bench-%06d,%s,%s,%d,\n", int(row / count) + 1, module[row % count + 1], date, 60 + row % 41
  }
}' >"$csv"

"$bin/issuer" load-catalogue catalogue/catalogue.json
"$bin/issuer" load-demo catalogue/demo.json
"$bin/issuer" load-demo "$DATA_DIR/members.json"

# Runs one import pass of the rows in file $2, $3 to a transaction. The
# issuer's log and summary go to a file, so the terminal shows only the
# summary line and the time.
run_pass() {
  local name=$1 input=$2 batch=$3 output=$DATA_DIR/import-$1.log start end status=0
  local rows
  rows=$(($(wc -l <"$input") - 1))
  echo
  echo "== $name pass, $batch rows per transaction"
  start=$(date +%s.%N)
  time "$bin/issuer" import-completions --batch-rows "$batch" "$input" >"$output" 2>&1 || status=$?
  end=$(date +%s.%N)
  grep -E '^[0-9]+ rows in ' "$output" || true
  if [[ $status -ne 0 ]]; then
    echo "the import failed with exit status $status, see $output" >&2
    exit "$status"
  fi
  awk -v rows="$rows" -v start="$start" -v end="$end" \
    'BEGIN { printf "%d rows in %.1f s, process start included: %.0f rows per second\n", rows, end - start, rows / (end - start) }'
}

TIMEFORMAT='real %3R s, user %3U s, sys %3S s'
batch=${BATCH_ROWS:-100}
run_pass first "$csv" "$batch"
run_pass second "$csv" "$batch"

# The reference: the first tenth of the rows, each in its own transaction,
# into a new database with the same catalogue and members.
reference_rows=$(((rows + 9) / 10))
reference_csv=$DATA_DIR/reference.csv
head -n $((reference_rows + 1)) "$csv" >"$reference_csv"
export DATA_DIR=$DATA_DIR/reference
mkdir -p "$DATA_DIR"
if [[ -n ${DATABASE_URL:-} ]]; then
  export DATABASE_URL=${DATABASE_URL}_reference
fi
{
  "$bin/issuer" load-catalogue catalogue/catalogue.json
  "$bin/issuer" load-demo catalogue/demo.json
  "$bin/issuer" load-demo "$DATA_DIR/../members.json"
} >/dev/null
run_pass reference "$reference_csv" 1
