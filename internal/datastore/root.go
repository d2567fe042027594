// Package datastore keeps the files the API manages under the data root:
// uploaded datasets (datasets/<id>/data.jsonl with meta.json) and the model
// registry (models/<id>/meta.json, with the model's HF directory either
// beside it or registered from elsewhere under the root). Root confines
// every path a client sends to the data root.
package datastore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/wmss/wmss"
)

// Root is the data directory. Every path a client names is resolved through
// it, so nothing outside the directory can be read or registered.
type Root struct {
	dir  string // absolute, cleaned
	real string // dir with symlinks resolved
}

// NewRoot returns the Root at dir, creating the directory if needed.
func NewRoot(dir string) (*Root, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("data root %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("data root: %w", err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("data root: %w", err)
	}
	return &Root{dir: abs, real: real}, nil
}

// Dir returns the absolute path of the data root.
func (r *Root) Dir() string { return r.dir }

// Resolve turns p, a path relative to the data root or an absolute path
// inside it, into an absolute path of an existing file or directory with
// every symlink resolved. It returns an EINVALID *wmss.Error naming field
// when p is empty, contains a ".." element or a NUL byte, lies outside the
// root, or leads outside it through a symlink; ENOTFOUND when it does not
// exist.
func (r *Root) Resolve(field, p string) (string, error) {
	if p == "" {
		return "", wmss.FieldErrorf(field, "path is required")
	}
	if strings.ContainsRune(p, 0) {
		return "", wmss.FieldErrorf(field, "path contains a NUL byte")
	}
	for _, el := range strings.Split(filepath.ToSlash(p), "/") {
		if el == ".." {
			return "", wmss.FieldErrorf(field, "path %q contains \"..\"", p)
		}
	}
	full := p
	if !filepath.IsAbs(p) {
		full = filepath.Join(r.dir, p)
	}
	full = filepath.Clean(full)
	if !within(r.dir, full) && !within(r.real, full) {
		return "", wmss.FieldErrorf(field, "path %q is outside the data root", p)
	}
	real, err := filepath.EvalSymlinks(full)
	if errors.Is(err, os.ErrNotExist) {
		return "", &wmss.Error{Code: wmss.ENOTFOUND, Field: field, Message: fmt.Sprintf("%q does not exist under the data root", p)}
	} else if err != nil {
		return "", wmss.FieldErrorf(field, "path %q: %v", p, err)
	}
	if !within(r.real, real) {
		return "", wmss.FieldErrorf(field, "path %q leads outside the data root through a symlink", p)
	}
	return real, nil
}

// Rel returns abs (a path under the root, resolved or not) relative to the
// root, with forward slashes; abs itself when it is outside.
func (r *Root) Rel(abs string) string {
	for _, base := range []string{r.real, r.dir} {
		if within(base, abs) {
			if rel, err := filepath.Rel(base, abs); err == nil {
				return filepath.ToSlash(rel)
			}
		}
	}
	return abs
}

// within reports whether p is base or inside it; both must be clean and absolute.
func within(base, p string) bool {
	if p == base {
		return true
	}
	return strings.HasPrefix(p, strings.TrimSuffix(base, string(filepath.Separator))+string(filepath.Separator))
}
