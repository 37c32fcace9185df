#!/usr/bin/env bash
# One short fuzz run (ctest label "fuzz"): replays every file of the seed corpus (regression-* inputs included: a
# crash or hang found once stays a test), then mutates for SECONDS. Fails on any crash, sanitizer report, leak,
# hang over 10 s or RSS over 2 GB; the input that did it is left in WORK_DIR/ with the command to reproduce.
#   run_fuzz.sh FUZZER CORPUS_DIR WORK_DIR SECONDS
set -euo pipefail
fuzzer=$1 corpus=$2 work=$3 seconds=$4
if [ ! -x "$fuzzer" ]; then
  echo "run_fuzz: $fuzzer not built (configure and build the preset \"fuzz\", or run scripts/test)" >&2
  exit 1
fi
seeds=$(find "$corpus" -type f | wc -l)
if [ "$seeds" -eq 0 ]; then
  echo "run_fuzz: no seed corpus in $corpus" >&2
  exit 1
fi
# New inputs go to a scratch directory (the first corpus argument), never into the repository's seed corpus.
rm -rf "$work"
mkdir -p "$work/new"
echo "run_fuzz: $(basename "$fuzzer"): $seeds seeds from $corpus, ${seconds}s"
rc=0
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
  -artifact_prefix="$work/" "$work/new" "$corpus" >"$work/log" 2>&1 || rc=$?
grep -E '^#[0-9]+.*(INITED|DONE)|stat::number_of_executed_units|stat::peak_rss_mb|^(==|SUMMARY)' "$work/log" || true
if [ "$rc" != 0 ]; then
  tail -n 60 "$work/log"
  for a in "$work"/crash-* "$work"/timeout-* "$work"/leak-* "$work"/oom-*; do
    [ -e "$a" ] && echo "run_fuzz: reproduce with: $fuzzer $a" >&2
  done
  echo "run_fuzz: $(basename "$fuzzer") failed (exit $rc)" >&2
  exit 1
fi
