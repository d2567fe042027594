package datastore

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/training"
)

// Dataset is the metadata of an uploaded JSONL training set, stored as
// datasets/<id>/meta.json beside datasets/<id>/data.jsonl.
type Dataset struct {
	ID   string `json:"id"`   // e.g. "ds_0190a3b4c5d6e1f2a3b4"
	Name string `json:"name"` // the client's label, e.g. the uploaded file name
	// Path is the data file relative to the data root, e.g.
	// "datasets/ds_…/data.jsonl": the value to put in a pipeline spec's data.path.
	Path   string `json:"path"`
	Rows   int    `json:"rows"`   // samples usable for training
	Bytes  int64  `json:"bytes"`  // size of data.jsonl
	SHA256 string `json:"sha256"` // hex SHA-256 of data.jsonl
	// Dropped counts well-formed rows with nothing to learn from (blank
	// completion, no assistant turn), listed in Problems.
	Dropped   int                `json:"dropped"`
	Problems  []training.Problem `json:"problems,omitempty"`
	CreatedAt time.Time          `json:"created_at"`
}

// Datasets stores uploaded datasets under <root>/datasets. It is safe for
// concurrent use.
type Datasets struct {
	root *Root
	dir  string
	mu   sync.Mutex // serialises create and delete against listing
	// Now returns the current time; tests replace it.
	Now func() time.Time
}

// NewDatasets returns the dataset store under root, creating its directory.
func NewDatasets(root *Root) (*Datasets, error) {
	dir := filepath.Join(root.Dir(), "datasets")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	return &Datasets{root: root, dir: dir, Now: time.Now}, nil
}

// idPattern is the shape of every id this package hands out; anything else
// is not found without touching the file system.
var idPattern = regexp.MustCompile(`^(ds|mdl)_[0-9a-f]{20}$`)

// newID returns prefix_ + 12 hex digits of milliseconds (ids sort by
// creation) + 8 random hex digits.
func newID(prefix string, now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s_%012x%s", prefix, now.UnixMilli(), hex.EncodeToString(b[:]))
}

// Create reads a JSONL dataset from r (the format of training.ReadJSONL),
// validates every row and stores it. A file with structural problems is not
// stored; the error is the *training.ValidationError listing every problem
// with its line and field (it unwraps to EINVALID). An empty file, or one
// without a usable row, is an EINVALID error on "file". Errors reading r
// (such as *http.MaxBytesError) are returned as they are.
func (s *Datasets) Create(name string, r io.Reader) (*Dataset, error) {
	if name == "" {
		name = "data.jsonl"
	}
	if len(name) > 255 || strings.ContainsAny(name, "\x00\n\r") {
		return nil, wmss.FieldErrorf("name", "want at most 255 characters without NUL or line breaks")
	}
	tmp, err := os.MkdirTemp(s.dir, ".upload-")
	if err != nil {
		return nil, err
	}
	keep := false
	defer func() {
		if !keep {
			os.RemoveAll(tmp)
		}
	}()
	file := filepath.Join(tmp, "data.jsonl")
	f, err := os.OpenFile(file, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	ds, err := ValidateJSONL(file, name)
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	d := &Dataset{
		ID: newID("ds", now), Name: name, Rows: len(ds.Samples), Bytes: n,
		SHA256: hex.EncodeToString(h.Sum(nil)), Dropped: ds.Dropped, Problems: ds.Problems, CreatedAt: now,
	}
	d.Path = "datasets/" + d.ID + "/data.jsonl"
	if err := writeJSON(filepath.Join(tmp, "meta.json"), d); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// The rename publishes data and metadata together: a listing never sees
	// a half-written dataset.
	if err := os.Rename(tmp, filepath.Join(s.dir, d.ID)); err != nil {
		return nil, err
	}
	keep = true
	return d, nil
}

// ValidateJSONL reads the JSONL file at path with training.ReadJSONL,
// naming it name in problems. Beyond ReadJSONL's errors it rejects a file
// without one usable row (EINVALID on "file").
func ValidateJSONL(path, name string) (*training.Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ds, err := training.ReadJSONL(f, name, training.ReadOptions{})
	if err != nil {
		return nil, err
	}
	if len(ds.Samples) == 0 {
		return nil, wmss.FieldErrorf("file", "%s has no usable row (%d dropped)", name, ds.Dropped)
	}
	return ds, nil
}

// Get returns the dataset with id, or an ENOTFOUND error.
func (s *Datasets) Get(id string) (*Dataset, error) {
	return readMeta[Dataset](s.dir, "dataset", "ds_", id)
}

// readMeta reads dir/<id>/meta.json for an id with the given prefix; a
// malformed id or a missing entry is ENOTFOUND naming kind.
func readMeta[T any](dir, kind, prefix, id string) (*T, error) {
	if !idPattern.MatchString(id) || !strings.HasPrefix(id, prefix) {
		return nil, notFound(kind, id)
	}
	var v T
	if err := readJSON(filepath.Join(dir, id, "meta.json"), &v); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, notFound(kind, id)
		}
		return nil, err
	}
	return &v, nil
}

// List returns every dataset, newest first.
func (s *Datasets) List() ([]*Dataset, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return listNewest(s.dir, s.Get, func(d *Dataset) (time.Time, string) { return d.CreatedAt, d.ID })
}

// listNewest loads every entry of dir named like an id with get and sorts
// the results newest first (ties: larger id first).
func listNewest[T any](dir string, get func(id string) (T, error), key func(T) (time.Time, string)) ([]T, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := []T{}
	for _, e := range entries {
		if !e.IsDir() || !idPattern.MatchString(e.Name()) {
			continue
		}
		v, err := get(e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool {
		ti, idi := key(out[i])
		tj, idj := key(out[j])
		if !ti.Equal(tj) {
			return ti.After(tj)
		}
		return idi > idj
	})
	return out, nil
}

// Delete removes the dataset with id and its file, or returns ENOTFOUND.
// Jobs that already read it are not affected; jobs queued with its path
// fail when they start.
func (s *Datasets) Delete(id string) error {
	if _, err := s.Get(id); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return os.RemoveAll(filepath.Join(s.dir, id))
}

func notFound(what, id string) error {
	return &wmss.Error{Code: wmss.ENOTFOUND, Field: "id", Message: fmt.Sprintf("no %s %q", what, id)}
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
