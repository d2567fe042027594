// Command openapi2conv converts the Swagger 2.0 description that swag
// writes into OpenAPI 3.0 (kin-openapi's openapi2conv), validates the
// result and writes it as indented JSON. scripts/openapi.sh runs it:
//
//	go run ./internal/tools/openapi2conv IN.json OUT.json
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: openapi2conv SWAGGER2.json OPENAPI3.json")
		os.Exit(2)
	}
	if err := convert(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "openapi2conv:", err)
		os.Exit(1)
	}
}

func convert(in, out string) error {
	b, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var v2 openapi2.T
	if err := json.Unmarshal(b, &v2); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	v3, err := openapi2conv.ToV3(&v2)
	if err != nil {
		return fmt.Errorf("convert %s: %w", in, err)
	}
	if err := v3.Validate(context.Background()); err != nil {
		return fmt.Errorf("converted %s is not valid OpenAPI 3: %w", in, err)
	}
	j, err := json.MarshalIndent(v3, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(out, append(j, '\n'), 0o644)
}
