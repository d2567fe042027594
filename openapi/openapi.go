// Package openapi holds the wmss API description, generated from the swag
// annotations in package api by scripts/openapi.sh: swagger.json and
// swagger.yaml (Swagger 2.0, as swag writes them) and openapi.json
// (OpenAPI 3.0, converted with kin-openapi's openapi2conv), from which the
// client in internal/apiclient is generated. Never edit these files by
// hand; `scripts/openapi.sh --check` fails when they are stale.
package openapi

import _ "embed"

// JSON is openapi.json, the OpenAPI 3.0 description served at /openapi.json.
//
//go:embed openapi.json
var JSON []byte
