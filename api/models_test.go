package api_test

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/api"
	"github.com/wmss/wmss/internal/datastore"
	"github.com/wmss/wmss/internal/e2e"
)

func TestModels(t *testing.T) {
	h := newHarness(t)
	var created datastore.Model
	t.Run("CreateInit", func(t *testing.T) {
		h.json(h.req(http.MethodPost, "/v1/models/init", []byte(`{"name":"t","size":"tiny","seed":7}`)), 201, &created)
		if created.Source != "created" || created.Size != "tiny" || created.Seed != 7 || created.Path != "models/"+created.ID+"/model" {
			t.Errorf("model = %+v", created)
		}
	})
	t.Run("GetDetail", func(t *testing.T) {
		var d datastore.ModelDetail
		h.json(h.req(http.MethodGet, "/v1/models/"+created.ID, nil), 200, &d)
		// The double writes one 8×4 embedding: 32 parameters.
		if d.NumParameters == nil || *d.NumParameters != 32 || !strings.Contains(string(d.Config), `"vocab_size":8`) {
			t.Errorf("detail = %+v config %s", d, d.Config)
		}
		if len(d.Files) != 2 {
			t.Errorf("files = %+v", d.Files)
		}
	})
	t.Run("DownloadFile", func(t *testing.T) {
		w := h.req(http.MethodGet, "/v1/models/"+created.ID+"/files/config.json", nil)
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"hidden_size":4`) {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		if cd := w.Header().Get("Content-Disposition"); !strings.Contains(cd, "config.json") {
			t.Errorf("Content-Disposition = %q", cd)
		}
	})
	t.Run("DownloadTraversal", func(t *testing.T) {
		os.WriteFile(filepath.Join(h.root, "secret"), []byte("s"), 0o644)
		os.Symlink(filepath.Join(h.root, "secret"), filepath.Join(h.root, "models", created.ID, "model", "link"))
		h.problem(h.req(http.MethodGet, "/v1/models/"+created.ID+"/files/../../secret", nil), 422, "invalid", "name")
		h.problem(h.req(http.MethodGet, "/v1/models/"+created.ID+"/files/link", nil), 422, "invalid", "name")
		h.problem(h.req(http.MethodGet, "/v1/models/"+created.ID+"/files/nope", nil), 404, "not_found", "name")
		h.problem(h.req(http.MethodGet, "/v1/models/mdl_nope/files/config.json", nil), 404, "not_found", "id")
	})
	t.Run("Register", func(t *testing.T) {
		hf := filepath.Join(h.root, "imports", "m")
		os.MkdirAll(hf, 0o755)
		os.WriteFile(filepath.Join(hf, "config.json"), []byte(`{"hidden_size":2}`), 0o644)
		var m datastore.Model
		h.json(h.req(http.MethodPost, "/v1/models", []byte(`{"name":"m","path":"imports/m"}`)), 201, &m)
		if m.Path != "imports/m" || m.Source != "registered" {
			t.Errorf("model = %+v", m)
		}
		var d datastore.ModelDetail
		h.json(h.req(http.MethodGet, "/v1/models/"+m.ID, nil), 200, &d)
		if d.NumParameters != nil {
			t.Errorf("num_parameters = %d for a directory without safetensors", *d.NumParameters)
		}
	})
	t.Run("RegisterErrors", func(t *testing.T) {
		outside := t.TempDir()
		os.WriteFile(filepath.Join(outside, "config.json"), []byte(`{}`), 0o644)
		os.Symlink(outside, filepath.Join(h.root, "escape"))
		for _, tc := range []struct {
			name, body string
			status     int
			typ, field string
		}{
			{"DotDot", `{"name":"x","path":"imports/../../"}`, 422, "invalid", "path"},
			{"Absolute", `{"name":"x","path":"` + outside + `"}`, 422, "invalid", "path"},
			{"Symlink", `{"name":"x","path":"escape"}`, 422, "invalid", "path"},
			{"Missing", `{"name":"x","path":"nope"}`, 404, "not_found", "path"},
			{"NotHF", `{"name":"x","path":"imports"}`, 422, "invalid", "path"},
			{"NoName", `{"path":"imports/m"}`, 422, "invalid", "name"},
			{"UnknownField", `{"name":"x","path":"imports/m","dir":"y"}`, 422, "invalid", "dir"},
			{"WrongType", `{"name":1,"path":"imports/m"}`, 422, "invalid", "name"},
			{"Malformed", `{"name":`, 400, "malformed_json", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h.problem(h.req(http.MethodPost, "/v1/models", []byte(tc.body)), tc.status, tc.typ, tc.field)
			})
		}
	})
	t.Run("CreateErrors", func(t *testing.T) {
		h.problem(h.req(http.MethodPost, "/v1/models/init", []byte(`{"name":"x","size":"huge"}`)), 422, "invalid", "size")
		h.problem(h.req(http.MethodPost, "/v1/models/init", []byte(`{"name":"x","seed":-1}`)), 422, "invalid", "seed")
		h.problem(h.req(http.MethodPost, "/v1/models/init", []byte(`{"size":"tiny"}`)), 422, "invalid", "name")
	})
	t.Run("List", func(t *testing.T) {
		var l api.ModelList
		h.json(h.req(http.MethodGet, "/v1/models", nil), 200, &l)
		if len(l.Models) != 2 {
			t.Errorf("models = %+v", l.Models)
		}
	})
}

func TestModels_EngineUnavailable(t *testing.T) {
	h := newHarness(t, func(s *api.Server) { s.ModelCreator = nil })
	h.problem(h.req(http.MethodPost, "/v1/models/init", []byte(`{"name":"x"}`)), 503, "unavailable", "")
	h2 := newHarness(t, func(s *api.Server) {
		s.ModelCreator = &e2e.ModelCreator{Err: wmss.Errorf(wmss.EUNAVAILABLE, "engine not started")}
	})
	h2.problem(h2.req(http.MethodPost, "/v1/models/init", []byte(`{"name":"x"}`)), 503, "unavailable", "")
	h3 := newHarness(t, func(s *api.Server) { s.ModelCreator = &e2e.ModelCreator{Err: errors.New("segfault at /secret")} })
	p := h3.problem(h3.req(http.MethodPost, "/v1/models/init", []byte(`{"name":"x"}`)), 500, "internal", "")
	if strings.Contains(p.Detail, "secret") {
		t.Errorf("internal detail leaked: %q", p.Detail)
	}
	var l api.ModelList
	h3.json(h3.req(http.MethodGet, "/v1/models", nil), 200, &l)
	if len(l.Models) != 0 {
		t.Errorf("a failed create left %d models", len(l.Models))
	}
}
