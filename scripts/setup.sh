#!/usr/bin/env bash
# Sets up a fresh Debian bookworm machine for wmss and builds bin/wmss.
# Idempotent: installs only the Debian packages that are missing (running
# `apt-get update` once before the first install), verifies that torch imports
# in /usr/bin/python3 with OpenBLAS as the active BLAS, prints the measured
# matmul rate, and builds the binary.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS="python3-torch python3-numpy libopenblas0-pthread libpython3.11-dev pkg-config python3-sympy python3-jinja2 curl"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "setup: installing Debian packages:$missing"
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO="sudo"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

echo "setup: checking torch and BLAS in /usr/bin/python3"
if ! /usr/bin/python3 -c "import torch, numpy" 2>/dev/null; then
	echo "setup: /usr/bin/python3 cannot import torch; install python3-torch python3-numpy" >&2
	exit 1
fi
if ! blas=$(/usr/bin/python3 scripts/blas_check.py); then
	echo "setup: OpenBLAS is not the active BLAS ($blas); install libopenblas0-pthread" >&2
	exit 1
fi
echo "setup: $blas"

echo "setup: tokenizer reference encoder (npm)"
if ! bash scripts/tokenizer_ref.sh && ! bash scripts/tokenizer_ref.sh; then
	echo "setup: WARNING: could not install the npm reference encoder; the tokenizer parity test will report itself skipped" >&2
fi

echo "setup: building bin/wmss"
go build -o bin/wmss ./cmd/wmss
echo "setup: ok"
