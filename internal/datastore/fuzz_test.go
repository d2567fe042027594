package datastore_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/internal/datastore"
	"github.com/wmss/wmss/training"
)

// FuzzCreateDataset checks the upload path on any bytes: either the file
// is refused with an EINVALID error (every listed problem naming a line in
// the file) and nothing is stored, or it is stored byte for byte with its
// SHA-256, and its usable plus dropped rows are all its non-blank lines.
// The seeds run as a normal test; fuzz with
// go test ./internal/datastore -run '^$' -fuzz FuzzCreateDataset -fuzztime 30s.
func FuzzCreateDataset(f *testing.F) {
	for _, s := range []string{
		goodJSONL,
		"",
		"\n\n",
		`{"prompt":"a","completion":"b"}`,
		"{\"prompt\":\"a\",\"completion\":\"b\"}\r\n{\"prompt\":1}\r\n",
		`{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}],"prompt":"x"}`,
		`[1,2]` + "\n" + `"str"` + "\n" + `null`,
		`{"messages":[]}` + "\n" + `{"messages":[1]}` + "\n" + `{"messages":[{"role":"bot","content":"x"}]}`,
		"{\"prompt\":\"\xff\",\"completion\":\"\xfe\"}",
		`{"prompt":"a","completion":"b"} {"x":1}`,
	} {
		f.Add([]byte(s))
	}
	s, dir := mustDatasetsF(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := s.Create("fuzz.jsonl", bytes.NewReader(data))
		if err != nil {
			if wmss.ErrorCode(err) != wmss.EINVALID {
				t.Fatalf("error %v has code %q, want invalid", err, wmss.ErrorCode(err))
			}
			lines := bytes.Count(data, []byte("\n")) + 1
			var ve *training.ValidationError
			if errors.As(err, &ve) {
				for _, p := range ve.Problems {
					if p.Line < 1 || p.Line > lines || p.Reason == "" {
						t.Fatalf("problem %+v outside the file's %d lines", p, lines)
					}
				}
			}
			return
		}
		defer s.Delete(d.ID)
		stored, err := os.ReadFile(filepath.Join(dir, d.Path))
		if err != nil || !bytes.Equal(stored, data) {
			t.Fatalf("stored %q, %v; want the upload", stored, err)
		}
		sum := sha256.Sum256(data)
		if d.SHA256 != hex.EncodeToString(sum[:]) || d.Bytes != int64(len(data)) || d.Rows < 1 {
			t.Fatalf("dataset = %+v", d)
		}
		nonBlank := 0
		for _, l := range bytes.Split(data, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				nonBlank++
			}
		}
		if d.Rows+d.Dropped != nonBlank {
			t.Fatalf("rows %d + dropped %d != %d non-blank lines", d.Rows, d.Dropped, nonBlank)
		}
	})
}

func mustDatasetsF(f *testing.F) (*datastore.Datasets, string) {
	dir := f.TempDir()
	r, err := datastore.NewRoot(dir)
	if err != nil {
		f.Fatal(err)
	}
	s, err := datastore.NewDatasets(r)
	if err != nil {
		f.Fatal(err)
	}
	return s, dir
}
