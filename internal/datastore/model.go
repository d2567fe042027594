package datastore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/wmss/wmss"
)

// Model sources.
const (
	SourceRegistered = "registered" // an HF directory that was already under the data root
	SourceCreated    = "created"    // a random-init model the engine wrote to models/<id>/model
)

// Model is an entry of the model registry, stored as models/<id>/meta.json.
type Model struct {
	ID     string `json:"id"`     // e.g. "mdl_0190a3b4c5d6e1f2a3b4"
	Name   string `json:"name"`   // the client's label
	Source string `json:"source"` // "registered" or "created"
	// Path is the HF-layout model directory relative to the data root: the
	// value to put in a pipeline spec's base_model.path.
	Path      string    `json:"path"`
	Size      string    `json:"size,omitempty"` // created models: the engine's size name ("tiny", "small")
	Seed      uint64    `json:"seed,omitempty"` // created models: the init seed
	CreatedAt time.Time `json:"created_at"`
}

// ModelDetail is a model with what its directory holds.
type ModelDetail struct {
	Model
	// Config is the model's config.json as stored.
	Config json.RawMessage `json:"config" swaggertype:"object"`
	// NumParameters counts the distinct parameters in the *.safetensors
	// files (a tied lm_head.weight counts once, as the engine counts);
	// absent when the directory has no safetensors file.
	NumParameters *int64      `json:"num_parameters,omitempty"`
	Files         []ModelFile `json:"files"`
}

// ModelFile is one file of a model directory.
type ModelFile struct {
	Name  string `json:"name"`  // relative to the model directory, forward slashes
	Bytes int64  `json:"bytes"` // size
}

// Models is the model registry under <root>/models. It is safe for
// concurrent use.
type Models struct {
	root *Root
	dir  string
	mu   sync.Mutex
	// Now returns the current time; tests replace it.
	Now func() time.Time
}

// NewModels returns the model registry under root, creating its directory.
func NewModels(root *Root) (*Models, error) {
	dir := filepath.Join(root.Dir(), "models")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	return &Models{root: root, dir: dir, Now: time.Now}, nil
}

// Register adds the HF-layout directory at path (relative to the data root,
// or absolute inside it) under name. path must resolve inside the root (see
// Root.Resolve; errors name field "path") and hold a config.json with a JSON
// object (EINVALID on "path" otherwise).
func (m *Models) Register(name, path string) (*Model, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	dir, err := m.root.Resolve("path", path)
	if err != nil {
		return nil, err
	}
	if _, err := readConfig(dir); err != nil {
		return nil, err
	}
	now := m.Now().UTC()
	md := &Model{ID: newID("mdl", now), Name: name, Source: SourceRegistered, Path: m.root.Rel(dir), CreatedAt: now}
	return md, m.publish(md, nil)
}

// Create makes a new model directory models/<id>/model, calls write(dir) to
// fill it (the engine's init_model), checks that it holds a config.json and
// registers it. On any error nothing is kept.
func (m *Models) Create(name, size string, seed uint64, write func(dir string) error) (*Model, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	now := m.Now().UTC()
	md := &Model{ID: newID("mdl", now), Name: name, Source: SourceCreated, Size: size, Seed: seed, CreatedAt: now}
	tmp, err := os.MkdirTemp(m.dir, ".create-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp) // a no-op after the rename
	if err := write(filepath.Join(tmp, "model")); err != nil {
		return nil, err
	}
	if _, err := readConfig(filepath.Join(tmp, "model")); err != nil {
		return nil, fmt.Errorf("the engine wrote no usable model: %w", err)
	}
	md.Path = "models/" + md.ID + "/model"
	return md, m.publish(md, &tmp)
}

// publish writes md's metadata and moves the entry into place; with tmp
// set, tmp (already holding the model) becomes the entry's directory.
func (m *Models) publish(md *Model, tmp *string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if tmp == nil {
		d, err := os.MkdirTemp(m.dir, ".register-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		tmp = &d
	}
	if err := writeJSON(filepath.Join(*tmp, "meta.json"), md); err != nil {
		return err
	}
	return os.Rename(*tmp, filepath.Join(m.dir, md.ID))
}

// Get returns the model with id, or ENOTFOUND.
func (m *Models) Get(id string) (*Model, error) {
	return readMeta[Model](m.dir, "model", "mdl_", id)
}

// List returns every model, newest first.
func (m *Models) List() ([]*Model, error) {
	// No lock: Get reads each model on its own, and a model being created appears only once
	// its directory is renamed into place.
	return listNewest(m.dir, m.Get, func(md *Model) (time.Time, string) { return md.CreatedAt, md.ID })
}

// Dir returns the absolute, symlink-resolved model directory of id. A
// registered directory that was since removed, or that now leads outside
// the root, is an error (ENOTFOUND or EINVALID).
func (m *Models) Dir(id string) (string, error) {
	md, err := m.Get(id)
	if err != nil {
		return "", err
	}
	return m.root.Resolve("path", md.Path)
}

// Detail returns the model with its config, parameter count and files.
func (m *Models) Detail(id string) (*ModelDetail, error) {
	md, err := m.Get(id)
	if err != nil {
		return nil, err
	}
	dir, err := m.root.Resolve("path", md.Path)
	if err != nil {
		return nil, err
	}
	cfg, err := readConfig(dir)
	if err != nil {
		return nil, err
	}
	d := &ModelDetail{Model: *md, Config: cfg, Files: []ModelFile{}}
	var tied struct {
		Tie bool `json:"tie_word_embeddings"`
	}
	_ = json.Unmarshal(cfg, &tied)
	var total int64
	found := false
	err = filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.Type().IsRegular() {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		d.Files = append(d.Files, ModelFile{Name: filepath.ToSlash(rel), Bytes: info.Size()})
		if strings.HasSuffix(p, ".safetensors") {
			n, err := SafetensorsParameters(p, tied.Tie)
			if err != nil {
				return err
			}
			total += n
			found = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if found {
		d.NumParameters = &total
	}
	return d, nil
}

// File returns the absolute path of the regular file name (relative, forward
// slashes) inside model id's directory. Names with "..", absolute names and
// symlinks leading out of the model directory are EINVALID on "name"; a
// missing file is ENOTFOUND.
func (m *Models) File(id, name string) (string, error) {
	dir, err := m.Dir(id)
	if err != nil {
		return "", err
	}
	name = strings.TrimPrefix(name, "/")
	if name == "" || filepath.IsAbs(filepath.FromSlash(name)) || strings.ContainsRune(name, 0) {
		return "", wmss.FieldErrorf("name", "want a file name inside the model directory, got %q", name)
	}
	for _, el := range strings.Split(name, "/") {
		if el == ".." {
			return "", wmss.FieldErrorf("name", "file name %q contains \"..\"", name)
		}
	}
	real, err := filepath.EvalSymlinks(filepath.Join(dir, filepath.FromSlash(name)))
	if errors.Is(err, os.ErrNotExist) {
		return "", &wmss.Error{Code: wmss.ENOTFOUND, Field: "name", Message: fmt.Sprintf("model %s has no file %q", id, name)}
	} else if err != nil {
		return "", err
	}
	if !within(dir, real) {
		return "", wmss.FieldErrorf("name", "file %q leads outside the model directory", name)
	}
	info, err := os.Stat(real)
	if err != nil {
		return "", err
	}
	if !info.Mode().IsRegular() {
		return "", wmss.FieldErrorf("name", "%q is not a regular file", name)
	}
	return real, nil
}

func checkName(name string) error {
	if strings.TrimSpace(name) == "" {
		return wmss.FieldErrorf("name", "name is required")
	}
	if len(name) > 255 || strings.ContainsAny(name, "\x00\n\r") {
		return wmss.FieldErrorf("name", "want at most 255 characters without NUL or line breaks")
	}
	return nil
}

// readConfig returns dir/config.json, which must hold a JSON object.
func readConfig(dir string) (json.RawMessage, error) {
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, wmss.FieldErrorf("path", "not an HF model directory: %v", err)
	}
	b = bytes.TrimSpace(b)
	if !json.Valid(b) || len(b) == 0 || b[0] != '{' {
		return nil, wmss.FieldErrorf("path", "config.json is not a JSON object")
	}
	return json.RawMessage(b), nil
}

// maxSafetensorsHeader bounds the JSON header we read (the format allows
// up to 100 MB; real headers are kilobytes).
const maxSafetensorsHeader = 100 << 20

// SafetensorsParameters returns the number of tensor elements in the
// safetensors file at path: the product of each tensor's shape, summed.
// With tied set, "lm_head.weight" is left out (it equals the embedding).
// The format is an 8-byte little-endian header length, then a JSON object
// mapping tensor names to {"dtype", "shape", "data_offsets"} plus an
// optional "__metadata__" (huggingface/safetensors, "Format").
func SafetensorsParameters(path string, tied bool) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var n uint64
	if err := binary.Read(f, binary.LittleEndian, &n); err != nil {
		return 0, fmt.Errorf("%s: safetensors header length: %w", path, err)
	}
	if n > maxSafetensorsHeader {
		return 0, fmt.Errorf("%s: safetensors header of %d bytes is over the %d limit", path, n, maxSafetensorsHeader)
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(f, hdr); err != nil {
		return 0, fmt.Errorf("%s: safetensors header: %w", path, err)
	}
	var tensors map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &tensors); err != nil {
		return 0, fmt.Errorf("%s: safetensors header: %w", path, err)
	}
	var total int64
	for name, raw := range tensors {
		if name == "__metadata__" || (tied && name == "lm_head.weight") {
			continue
		}
		var t struct {
			Shape []int64 `json:"shape"`
		}
		if err := json.Unmarshal(raw, &t); err != nil {
			return 0, fmt.Errorf("%s: tensor %s: %w", path, name, err)
		}
		c := int64(1)
		for _, d := range t.Shape {
			c *= d
		}
		total += c
	}
	return total, nil
}
