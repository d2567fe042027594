#!/usr/bin/env bash
# The main job (make demo runs scripts/setup.sh first): start `wmss serve`
# on a fresh data directory with the embedded SQLite store, run the SFT
# baseline and WMSS on a GSM8K-train subset and evaluate M0, M1, the
# baseline and the WMSS model on GSM8K-test and SVAMP slices, all through
# the REST API (`wmss demo`), then stop the server with SIGTERM.
# Outputs in out/demo/: table.txt, outcome.json, report.html, server.log.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x bin/wmss ] || go build -o bin/wmss ./cmd/wmss

out=${WMSS_DEMO_OUT:-out/demo}
port=${WMSS_DEMO_PORT:-18080}
rm -rf "$out"
mkdir -p "$out/data"
./bin/wmss serve --addr "127.0.0.1:$port" --data-dir "$out/data" 2>"$out/server.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT

./bin/wmss demo --server "http://127.0.0.1:$port" --data-dir "$out/data" --out "$out" "$@"

kill -TERM $pid
if wait $pid; then
	echo "demo: server stopped cleanly after SIGTERM (log: $out/server.log)"
else
	echo "demo: server exited with status $? after SIGTERM (log: $out/server.log)" >&2
	exit 1
fi
trap - EXIT
