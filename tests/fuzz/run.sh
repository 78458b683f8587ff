#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (AML_FUZZ=ON, AddressSanitizer) and
# runs each for a bounded time on a seed corpus taken from tests/fixtures.
#
#   bash tests/fuzz/run.sh [SECONDS] [BUILD_DIR]
#
# SECONDS per target (default 60); BUILD_DIR defaults to build-fuzz/ in the
# repository (ignored by git).  Exits non-zero when a target crashes, leaks or times out;
# the crashing input is left in the work directory (printed).
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${2:-$root/build-fuzz}"
jobs="${AML_FUZZ_JOBS:-2}"

CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DAML_FUZZ=ON -DAML_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target fuzz_csv fuzz_spec fuzz_model -j"$jobs" >/dev/null

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/csv" "$work/spec" "$work/model" "$work/artifacts"

# Seeds: every CSV fixture behind an option byte (0: sniff, '.'), and every
# YAML fixture (the bad-input specs name CSV files next to them, so those
# are copied beside the temporary spec for data.train to resolve).  The
# model corpus starts with the old-format fixtures (raw mode byte 0); the
# fuzz_model harness adds models of every learner kind and of ensembles
# itself (AML_FUZZ_MODEL_SEEDS) before it starts.
for f in "$root"/tests/fixtures/model/*.model; do
  [ -f "$f" ] || continue
  { printf '\000'; cat "$f"; } > "$work/model/seed_$(basename "$f")"
done
i=0
for f in "$root"/tests/fixtures/csv/*.csv "$root"/tests/fixtures/csv/*.tsv \
         "$root"/tests/fixtures/bad/*.csv "$root"/tests/fixtures/bad/*.tsv; do
  [ -f "$f" ] || continue
  { printf '\000'; head -c 4096 "$f"; } > "$work/csv/seed$i"
  i=$((i + 1))
done
cp "$root"/tests/fixtures/bad/*.yaml "$root/examples/penguins/spec.yaml" "$work/spec/"
cp "$root"/tests/fixtures/bad/*.csv "$root"/tests/fixtures/bad/*.tsv "$work/"
cp "$root/examples/penguins/penguins.csv" "$work/"

status=0
for target in fuzz_csv fuzz_spec fuzz_model; do
  corpus="$work/csv"
  [ "$target" = fuzz_spec ] && corpus="$work/spec"
  max_len=8192
  [ "$target" = fuzz_model ] && corpus="$work/model" && max_len=262144 # whole models
  echo "fuzz: $target for ${seconds}s"
  if ! (cd "$work" && AML_FUZZ_DIR="$work" AML_FUZZ_MODEL_SEEDS="$work/model" \
        "$build/tests/fuzz/$target" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
        -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$corpus" \
        > "$work/$target.log" 2>&1); then
    echo "fuzz: $target FAILED; last lines of its log:" >&2
    tail -40 "$work/$target.log" >&2
    mkdir -p "$build/fuzz-artifacts"
    cp "$work"/artifacts/* "$build/fuzz-artifacts/" 2>/dev/null || true
    echo "fuzz: crashing inputs copied to $build/fuzz-artifacts" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|Done" "$work/$target.log" | tail -2
  fi
done
exit $status
