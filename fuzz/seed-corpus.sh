#!/usr/bin/env bash
# Writes the seed corpus of every fuzz target under fuzz/corpus/<target>/
# from the repository's fixtures and a credential signed by the fuzz
# crate's academy key. The corpus is generated, never committed.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_INCREMENTAL=0
nice -n 19 cargo run --example seed_corpus
