#!/usr/bin/env bash
# Math answers graded per second over the shipped golds (numeric path, no
# Symbolic). Target: >= 20,000 answers/s. Needs ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run '^$' -bench 'GradeGolds' -benchtime "${BENCHTIME:-3s}" ./evaluators/mathgrade
