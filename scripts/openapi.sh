#!/usr/bin/env bash
# openapi.sh regenerates the API description and client from the swag
# annotations in api/:
#
#   openapi/swagger.json, openapi/swagger.yaml   Swagger 2.0, by swag v1.16.6
#   openapi/openapi.json                         OpenAPI 3.0, by internal/tools/openapi2conv (kin-openapi)
#   internal/apiclient/client.gen.go             Go client, by oapi-codegen v2.8.2
#
# usage: scripts/openapi.sh           regenerate in place
#        scripts/openapi.sh --check   regenerate into a temporary directory and
#                                     fail (exit 1) if anything committed differs
#
# The generators are installed with `go install` into $WMSS_TOOLS_BIN
# (default: $(go env GOPATH)/bin) when that directory lacks the pinned
# version. Nothing here edits the generated files by hand.
set -euo pipefail

SWAG_VERSION=v1.16.6
OAPI_VERSION=v2.8.2

cd "$(dirname "$0")/.."
root=$(pwd)
bin=${WMSS_TOOLS_BIN:-$(go env GOPATH)/bin}
mkdir -p "$bin"

# install NAME MODULE/CMD@VERSION MODULE: go install unless $bin/NAME was
# built from MODULE at VERSION (read from the binary's build info).
install() {
	local name=$1 pkg=$2 mod=$3 want=${2##*@}
	if [ -x "$bin/$name" ] && go version -m "$bin/$name" 2>/dev/null | grep -qE "^\s+mod\s+$mod\s+$want\s"; then
		return
	fi
	echo "openapi.sh: installing $pkg" >&2
	GOBIN="$bin" go install "$pkg"
}
install swag "github.com/swaggo/swag/cmd/swag@$SWAG_VERSION" github.com/swaggo/swag
install oapi-codegen "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@$OAPI_VERSION" github.com/oapi-codegen/oapi-codegen/v2

check=false
case "${1:-}" in
--check) check=true ;;
"") ;;
*) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

if $check; then
	out=$(mktemp -d)
	trap 'rm -rf "$out"' EXIT
else
	out=$root/.openapi-gen
	rm -rf "$out"
	trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out/openapi" "$out/apiclient"

# swag reads the general info in api/api.go and the types of the packages
# listed after it; json.RawMessage is described as any JSON value
# (openapi/swag.overrides).
"$bin/swag" init --quiet -g api.go -d ./api,./,./training,./internal/datastore \
	-o "$out/openapi" --outputTypes json,yaml --overridesFile openapi/swag.overrides
go run ./internal/tools/openapi2conv "$out/openapi/swagger.json" "$out/openapi/openapi.json"
"$bin/oapi-codegen" -config internal/apiclient/oapi-codegen.yaml \
	-o "$out/apiclient/client.gen.go" "$out/openapi/openapi.json"

generated=(openapi/swagger.json openapi/swagger.yaml openapi/openapi.json internal/apiclient/client.gen.go)
src() {
	case $1 in
	openapi/*) echo "$out/$1" ;;
	internal/apiclient/*) echo "$out/apiclient/${1#internal/apiclient/}" ;;
	esac
}
if $check; then
	status=0
	for f in "${generated[@]}"; do
		if ! diff -u "$f" "$(src "$f")" >"$out/diff" 2>&1; then
			echo "openapi.sh: $f is stale; run scripts/openapi.sh and commit the result" >&2
			head -n 40 "$out/diff" >&2
			status=1
		fi
	done
	[ $status -eq 0 ] && echo "openapi.sh: openapi/ and internal/apiclient are up to date"
	exit $status
fi
for f in "${generated[@]}"; do
	cp "$(src "$f")" "$f"
done
echo "openapi.sh: wrote ${generated[*]}"
