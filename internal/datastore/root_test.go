package datastore_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/internal/datastore"
)

func TestRoot_Resolve(t *testing.T) {
	base := t.TempDir()
	rootDir := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{filepath.Join(rootDir, "models", "m"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(rootDir, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(rootDir, "models", "m"), filepath.Join(rootDir, "alias")); err != nil {
		t.Fatal(err)
	}
	r, err := datastore.NewRoot(rootDir)
	if err != nil {
		t.Fatal(err)
	}
	realM, _ := filepath.EvalSymlinks(filepath.Join(rootDir, "models", "m"))
	cases := []struct {
		name, path string
		code       string
		want       string
	}{
		{"Relative", "models/m", "", realM},
		{"AbsoluteInside", filepath.Join(rootDir, "models", "m"), "", realM},
		{"SymlinkInside", "alias", "", realM},
		{"DotDot", "models/../../outside/secret", wmss.EINVALID, ""},
		{"DotDotOnly", "..", wmss.EINVALID, ""},
		{"AbsoluteOutside", filepath.Join(outside, "secret"), wmss.EINVALID, ""},
		{"AbsoluteEtc", "/etc/passwd", wmss.EINVALID, ""},
		{"SymlinkEscape", "escape/secret", wmss.EINVALID, ""},
		{"SymlinkEscapeDir", "escape", wmss.EINVALID, ""},
		{"Empty", "", wmss.EINVALID, ""},
		{"NUL", "models/m\x00", wmss.EINVALID, ""},
		{"Missing", "models/nope", wmss.ENOTFOUND, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Resolve("data.path", tc.path)
			if code := wmss.ErrorCode(err); code != tc.code {
				t.Fatalf("Resolve(%q) = %q, %v; want code %q", tc.path, got, err, tc.code)
			}
			if err != nil {
				if e := err.(*wmss.Error); e.Field != "data.path" {
					t.Errorf("field = %q, want data.path", e.Field)
				}
				return
			}
			if got != tc.want {
				t.Errorf("Resolve(%q) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}
	if got, want := r.Rel(realM), "models/m"; got != want {
		t.Errorf("Rel = %q, want %q", got, want)
	}
}
