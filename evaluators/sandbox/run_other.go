//go:build !linux

package sandbox

import (
	"context"

	"github.com/wmss/wmss"
)

// Available reports that the sandbox needs Linux namespaces.
func Available() error {
	return wmss.Errorf(wmss.EUNAVAILABLE, "sandbox unavailable: Linux namespaces are required")
}

func (s *Sandbox) exec(ctx context.Context, p Program, lim Limits) runResult {
	return runResult{Result: errorResult(Available())}
}
