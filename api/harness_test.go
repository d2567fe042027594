package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"

	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/api"
	"github.com/wmss/wmss/internal/datastore"
	"github.com/wmss/wmss/internal/e2e"
	"github.com/wmss/wmss/internal/sqlite"
)

const testToken = "t0ken"

// harness is a Server over a real SQLite store and real data-root
// registries in a temporary directory, with doubles for the runner,
// evaluator, model creator and sandbox.
type harness struct {
	t       *testing.T
	s       *api.Server
	store   *sqlite.DB
	root    string
	runner  *e2e.Runner
	eval    *e2e.Evaluator
	sandbox *e2e.Sandbox
}

func newHarness(t *testing.T, edit ...func(*api.Server)) *harness {
	t.Helper()
	dir := t.TempDir()
	store, err := sqlite.Open(filepath.Join(dir, "wmss.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	root, err := datastore.NewRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := datastore.NewDatasets(root)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := datastore.NewModels(root)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, store: store, root: dir, runner: &e2e.Runner{}, eval: &e2e.Evaluator{Items: map[wmss.JobID][]api.EvalItem{}}, sandbox: &e2e.Sandbox{}}
	srv := &api.Server{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Token: testToken,
		Store: store, Runner: h.runner, Evaluator: h.eval, Root: root, Datasets: ds, Models: ms,
		ModelCreator: &e2e.ModelCreator{Vocab: 8, Hidden: 4}, Sandbox: h.sandbox,
		PollInterval: 5 * time.Millisecond,
	}
	for _, f := range edit {
		f(srv)
	}
	h.s = api.NewServer(srv)
	return h
}

// req sends a request with the test token and the given headers (pairs).
func (h *harness) req(method, path string, body []byte, headers ...string) *httptest.ResponseRecorder {
	h.t.Helper()
	r := httptest.NewRequest(method, path, bytes.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+testToken)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.s.Handler().ServeHTTP(w, r)
	return w
}

// json decodes w's body into v, failing unless the status is want.
func (h *harness) json(w *httptest.ResponseRecorder, want int, v any) {
	h.t.Helper()
	if w.Code != want {
		h.t.Fatalf("status = %d, want %d: %s", w.Code, want, w.Body)
	}
	if v != nil {
		if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
			h.t.Fatalf("decode %s: %v", w.Body, err)
		}
	}
}

// problem asserts w is a problem with status and type suffix typ (and
// field, when not "-"), returning it.
func (h *harness) problem(w *httptest.ResponseRecorder, status int, typ, field string) api.Problem {
	h.t.Helper()
	if w.Code != status {
		h.t.Fatalf("status = %d, want %d: %s", w.Code, status, w.Body)
	}
	p := decodeProblem(h.t, w)
	if p.Type != "https://wmss.dev/problems/"+typ {
		h.t.Errorf("type = %q, want …/%s (%s)", p.Type, typ, w.Body)
	}
	if field != "-" && p.Field != field {
		h.t.Errorf("field = %q, want %q (%s)", p.Field, field, w.Body)
	}
	return p
}
