package datastore_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/internal/datastore"
	"github.com/wmss/wmss/training"
)

func mustDatasets(t *testing.T) (*datastore.Datasets, string) {
	t.Helper()
	dir := t.TempDir()
	r, err := datastore.NewRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := datastore.NewDatasets(r)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

const goodJSONL = `{"prompt":"1+1=","completion":"2"}
{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}

{"prompt":"x","completion":"  "}
`

func TestDatasets_CreateGetListDelete(t *testing.T) {
	s, dir := mustDatasets(t)
	d, err := s.Create("train.jsonl", strings.NewReader(goodJSONL))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(goodJSONL))
	if d.Rows != 2 || d.Dropped != 1 || d.Bytes != int64(len(goodJSONL)) || d.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("dataset = %+v", d)
	}
	if len(d.Problems) != 1 || d.Problems[0].Line != 4 || d.Problems[0].Reason != training.ReasonEmptyCompletion {
		t.Errorf("problems = %+v, want one empty_completion on line 4", d.Problems)
	}
	if want := "datasets/" + d.ID + "/data.jsonl"; d.Path != want {
		t.Errorf("path = %q, want %q", d.Path, want)
	}
	b, err := os.ReadFile(filepath.Join(dir, d.Path))
	if err != nil || string(b) != goodJSONL {
		t.Fatalf("stored file = %q, %v", b, err)
	}
	got, err := s.Get(d.ID)
	if err != nil || got.SHA256 != d.SHA256 || !got.CreatedAt.Equal(d.CreatedAt) {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	d2, err := s.Create("", strings.NewReader(goodJSONL))
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.List()
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %v, %v", list, err)
	}
	if list[0].ID != d2.ID || list[1].ID != d.ID {
		t.Errorf("List not newest first: %s, %s", list[0].ID, list[1].ID)
	}
	if err := s.Delete(d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(d.ID); wmss.ErrorCode(err) != wmss.ENOTFOUND {
		t.Errorf("Get after Delete: %v", err)
	}
	if err := s.Delete(d.ID); wmss.ErrorCode(err) != wmss.ENOTFOUND {
		t.Errorf("second Delete: %v", err)
	}
	for _, id := range []string{"../etc", "ds_zz", "mdl_0123456789abcdef0123"} {
		if _, err := s.Get(id); wmss.ErrorCode(err) != wmss.ENOTFOUND {
			t.Errorf("Get(%q) = %v, want not found", id, err)
		}
	}
}

func TestDatasets_CreateInvalidStoresNothing(t *testing.T) {
	s, dir := mustDatasets(t)
	bad := `{"prompt":"a","completion":"b"}
{"prompt":"a"}
not json
{"messages":[{"role":"bot","content":"x"}]}
`
	_, err := s.Create("bad.jsonl", strings.NewReader(bad))
	var ve *training.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want *training.ValidationError", err)
	}
	want := []struct {
		line          int
		field, reason string
	}{
		{2, "completion", training.ReasonMissingField},
		{3, "", training.ReasonInvalidJSON},
		{4, "messages[0].role", training.ReasonInvalidValue},
	}
	if len(ve.Problems) != len(want) {
		t.Fatalf("problems = %+v", ve.Problems)
	}
	for i, w := range want {
		p := ve.Problems[i]
		if p.Line != w.line || p.Field != w.field || p.Reason != w.reason || p.File != "bad.jsonl" {
			t.Errorf("problem %d = %+v, want %+v", i, p, w)
		}
	}
	if wmss.ErrorCode(err) != wmss.EINVALID {
		t.Errorf("code = %q", wmss.ErrorCode(err))
	}
	for _, body := range []string{"", "\n\n", `{"prompt":"a","completion":""}` + "\n"} {
		if _, err := s.Create("e.jsonl", strings.NewReader(body)); wmss.ErrorCode(err) != wmss.EINVALID {
			t.Errorf("Create(%q) = %v, want EINVALID", body, err)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "datasets"))
	if len(entries) != 0 {
		t.Errorf("datasets dir holds %d entries after failed uploads", len(entries))
	}
}
