#!/usr/bin/env bash
# The main job, for now: start `wmss serve` on a free local port with a
# temporary data directory, show GET /healthz, and stop the server with
# SIGTERM. (Later issues make this the full SFT-vs-WMSS demo.)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x bin/wmss ] || go build -o bin/wmss ./cmd/wmss

data=$(mktemp -d)
log="$data/server.log"
port=${WMSS_DEMO_PORT:-18080}
./bin/wmss serve --addr "127.0.0.1:$port" --data-dir "$data" 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$data"' EXIT

for _ in $(seq 1 100); do
	if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
	if ! kill -0 $pid 2>/dev/null; then cat "$log" >&2; echo "demo: server exited" >&2; exit 1; fi
	sleep 0.1
done
echo "GET http://127.0.0.1:$port/healthz"
curl -fsS "http://127.0.0.1:$port/healthz" | /usr/bin/python3 -m json.tool
kill -TERM $pid
wait $pid
echo "demo: server stopped cleanly (exit 0 after SIGTERM)"
