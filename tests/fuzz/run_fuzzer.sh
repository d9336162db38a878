#!/bin/sh
# run_fuzzer.sh BINARY SEED_CORPUS WORK_DIR SECONDS
# Runs a libFuzzer target for a bounded time on a copy of its seed corpus;
# fails if the fuzzer finds a crash, a leak or a sanitizer report.
set -eu
binary=$1 corpus=$2 work=$3 seconds=$4
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
if [ -d "$corpus" ]; then cp -R "$corpus/." "$work/corpus/"; fi
exec "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$work/corpus"
