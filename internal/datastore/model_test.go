package datastore_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/internal/datastore"
)

// writeSafetensors writes a safetensors file holding zero-filled float32
// tensors of the given shapes.
func writeSafetensors(t *testing.T, path string, shapes map[string][]int64) {
	t.Helper()
	hdr := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	var off int64
	for name, shape := range shapes {
		n := int64(4)
		for _, d := range shape {
			n *= d
		}
		hdr[name] = map[string]any{"dtype": "F32", "shape": shape, "data_offsets": []int64{off, off + n}}
		off += n
	}
	h, _ := json.Marshal(hdr)
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	b = append(b, h...)
	b = append(b, make([]byte, off)...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustModels(t *testing.T) (*datastore.Models, string) {
	t.Helper()
	dir := t.TempDir()
	r, err := datastore.NewRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := datastore.NewModels(r)
	if err != nil {
		t.Fatal(err)
	}
	return m, dir
}

func TestModels_RegisterDetailFile(t *testing.T) {
	m, root := mustModels(t)
	hf := filepath.Join(root, "hf", "tiny")
	if err := os.MkdirAll(hf, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(hf, "config.json"), []byte(`{"hidden_size": 4, "vocab_size": 10, "tie_word_embeddings": true}`), 0o644)
	// 10·4 (embedding) + 4 (norm) + 2·3 (proj) = 50; the tied lm_head is not counted.
	writeSafetensors(t, filepath.Join(hf, "model.safetensors"), map[string][]int64{
		"model.embed_tokens.weight": {10, 4}, "model.norm.weight": {4}, "proj.weight": {2, 3}, "lm_head.weight": {10, 4},
	})
	outside := filepath.Join(t.TempDir(), "secret.txt")
	os.WriteFile(outside, []byte("secret"), 0o644)
	os.Symlink(outside, filepath.Join(hf, "leak.txt"))

	md, err := m.Register("tiny", "hf/tiny")
	if err != nil {
		t.Fatal(err)
	}
	if md.Path != "hf/tiny" || md.Source != datastore.SourceRegistered || !strings.HasPrefix(md.ID, "mdl_") {
		t.Errorf("model = %+v", md)
	}
	d, err := m.Detail(md.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.NumParameters == nil || *d.NumParameters != 50 {
		t.Errorf("num_parameters = %v, want 50", d.NumParameters)
	}
	var cfg map[string]any
	if err := json.Unmarshal(d.Config, &cfg); err != nil || cfg["hidden_size"] != 4.0 {
		t.Errorf("config = %s", d.Config)
	}
	if p, err := m.File(md.ID, "config.json"); err != nil || !strings.HasSuffix(p, "config.json") {
		t.Errorf("File(config.json) = %q, %v", p, err)
	}
	for _, tc := range []struct{ name, code string }{
		{"../../etc/passwd", wmss.EINVALID}, {"/etc/passwd", ""}, {"leak.txt", wmss.EINVALID},
		{"nope.bin", wmss.ENOTFOUND}, {"", wmss.EINVALID},
	} {
		_, err := m.File(md.ID, tc.name)
		// "/etc/passwd" is taken relative to the model directory (the
		// leading slash of a URL wildcard), so it is simply not there.
		want := tc.code
		if tc.name == "/etc/passwd" {
			want = wmss.ENOTFOUND
		}
		if got := wmss.ErrorCode(err); got != want {
			t.Errorf("File(%q) = %v, want code %q", tc.name, err, want)
		}
	}
	for _, tc := range []struct{ name, path, code string }{
		{"Outside", "/etc", wmss.EINVALID}, {"DotDot", "hf/../..", wmss.EINVALID},
		{"NoConfig", "hf", wmss.EINVALID}, {"Missing", "hf/none", wmss.ENOTFOUND}, {"NoName", "hf/tiny", wmss.EINVALID},
	} {
		name := "x"
		if tc.name == "NoName" {
			name = " "
		}
		if _, err := m.Register(name, tc.path); wmss.ErrorCode(err) != tc.code {
			t.Errorf("%s: Register(%q) = %v, want %s", tc.name, tc.path, err, tc.code)
		}
	}
	list, err := m.List()
	if err != nil || len(list) != 1 {
		t.Errorf("List = %v, %v", list, err)
	}
}

func TestModels_Create(t *testing.T) {
	m, root := mustModels(t)
	t.Run("WriterFails", func(t *testing.T) {
		_, err := m.Create("x", "tiny", 0, func(string) error { return errors.New("engine down") })
		if err == nil || !strings.Contains(err.Error(), "engine down") {
			t.Fatalf("err = %v", err)
		}
		if e, _ := os.ReadDir(filepath.Join(root, "models")); len(e) != 0 {
			t.Errorf("left %d entries", len(e))
		}
	})
	t.Run("NoConfig", func(t *testing.T) {
		_, err := m.Create("x", "tiny", 0, func(dir string) error { return os.MkdirAll(dir, 0o755) })
		if err == nil {
			t.Fatal("want error for a model without config.json")
		}
	})
	t.Run("Engine", func(t *testing.T) {
		// The real engine writes the model; its own parameter count is the
		// reference for ours read back from the safetensors header.
		py := "/usr/bin/python3"
		if err := exec.Command(py, "-c", "import torch").Run(); err != nil {
			t.Skip("needs /usr/bin/python3 with torch:", err)
		}
		_, file, _, _ := runtime.Caller(0)
		bridgeDir := filepath.Join(filepath.Dir(file), "..", "..", "bridge")
		var engineOut struct {
			NumParameters int64 `json:"num_parameters"`
		}
		md, err := m.Create("tiny", "tiny", 3, func(dir string) error {
			args, _ := json.Marshal(map[string]any{"out": dir, "size": "tiny", "seed": 3})
			cmd := exec.Command(py, "-m", "wmss_engine", "init_model", "--json", string(args))
			cmd.Dir = bridgeDir
			out, err := cmd.Output()
			if err != nil {
				return err
			}
			return json.Unmarshal(out, &engineOut)
		})
		if err != nil {
			t.Fatal(err)
		}
		d, err := m.Detail(md.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.NumParameters == nil || *d.NumParameters != engineOut.NumParameters || engineOut.NumParameters == 0 {
			t.Errorf("num_parameters = %v, engine says %d", d.NumParameters, engineOut.NumParameters)
		}
		if md.Path != "models/"+md.ID+"/model" || md.Size != "tiny" || md.Seed != 3 {
			t.Errorf("model = %+v", md)
		}
	})
}
