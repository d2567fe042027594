#!/usr/bin/env bash
# Programs/s for the 164 HumanEval canonical solutions, through the wmss
# sandbox and as plain /usr/bin/python3 subprocesses, in the same run, on 2
# cores (taskset when available; GOMAXPROCS=2 and the sandbox's default
# concurrency = NumCPU = 2). Target: sandbox >= 80% of plain.
# Usage: bash bench/sandbox_humaneval.sh [benchtime, default 6x]
set -euo pipefail
cd "$(dirname "$0")/.."
benchtime="${1:-6x}"
pin=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then pin=(taskset -c 0,1); fi
out="$(GOMAXPROCS=2 "${pin[@]}" go test -run '^$' -bench 'BenchmarkHumanEvalCanonical' -benchtime "$benchtime" -cpu 2 ./evaluators/codeeval/)"
echo "$out"
echo "$out" | awk '/HumanEvalCanonical/ {
  for (i = 1; i <= NF; i++) { if ($(i+1) == "sandbox_programs/s") s = $i; if ($(i+1) == "plain_programs/s") p = $i; if ($(i+1) == "sandbox_%_of_plain") r = $i }
  printf "sandbox %s programs/s, plain %s programs/s, sandbox at %s%% of plain (target >= 80%%)\n", s, p, r }'
