package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/api"
	"github.com/wmss/wmss/training"
)

// setupSpec creates a model directory and a dataset under the harness root
// and returns a valid pipeline spec naming them.
func (h *harness) setupSpec() string {
	os.MkdirAll(filepath.Join(h.root, "m0"), 0o755)
	os.WriteFile(filepath.Join(h.root, "m0", "config.json"), []byte(`{}`), 0o644)
	os.WriteFile(filepath.Join(h.root, "train.jsonl"), []byte(twoRows), 0o644)
	return `{"base_model":{"path":"m0"},"data":{"path":"train.jsonl"},"sft":{"steps":2},"optimizer":{"global_batch":2}}`
}

func TestCreateJob(t *testing.T) {
	h := newHarness(t)
	spec := h.setupSpec()
	var j wmss.Job
	t.Run("Created", func(t *testing.T) {
		w := h.req(http.MethodPost, "/v1/jobs", []byte(spec))
		h.json(w, 201, &j)
		if j.State != wmss.StateQueued || j.Kind != wmss.KindWMSS || w.Header().Get("Location") != "/v1/jobs/"+string(j.ID) {
			t.Errorf("job = %+v, Location %q", j, w.Header().Get("Location"))
		}
		if h.runner.Wakes() != 1 {
			t.Errorf("wakes = %d", h.runner.Wakes())
		}
		// The stored spec is the full spec, defaults filled, paths resolved.
		s, err := training.DecodeSpec(j.Spec)
		if err != nil {
			t.Fatal(err)
		}
		realRoot, _ := filepath.EvalSymlinks(h.root)
		if s.Data.Path != filepath.Join(realRoot, "train.jsonl") || s.BaseModel.Path != filepath.Join(realRoot, "m0") {
			t.Errorf("paths = %q, %q", s.Data.Path, s.BaseModel.Path)
		}
		if s.Optimizer.LR != 1e-5 || *s.SFT.Steps != 2 {
			t.Errorf("spec = %+v", s)
		}
	})
	t.Run("Idempotency", func(t *testing.T) {
		var a, b wmss.Job
		h.json(h.req(http.MethodPost, "/v1/jobs", []byte(spec), "Idempotency-Key", "k-1"), 201, &a)
		h.json(h.req(http.MethodPost, "/v1/jobs", []byte(spec), "Idempotency-Key", "k-1"), 200, &b)
		if a.ID != b.ID || a.ID == j.ID {
			t.Errorf("ids %s %s (first job %s)", a.ID, b.ID, j.ID)
		}
		other := strings.Replace(spec, `"steps":2`, `"steps":3`, 1)
		h.problem(h.req(http.MethodPost, "/v1/jobs", []byte(other), "Idempotency-Key", "k-1"), 422, "invalid", "Idempotency-Key")
		h.problem(h.req(http.MethodPost, "/v1/jobs", []byte(spec), "Idempotency-Key", "has space"), 422, "invalid", "Idempotency-Key")
		h.problem(h.req(http.MethodPost, "/v1/jobs", []byte(spec), "Idempotency-Key", strings.Repeat("k", 256)), 422, "invalid", "Idempotency-Key")
		if h.runner.Wakes() != 2 {
			t.Errorf("wakes = %d, want 2 (the repeat must not wake)", h.runner.Wakes())
		}
	})
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "x.jsonl"), []byte(twoRows), 0o644)
	os.Symlink(outside, filepath.Join(h.root, "out"))
	for _, tc := range []struct {
		name, body string
		status     int
		typ, field string
	}{
		{"Malformed", `{"base_model":`, 400, "malformed_json", ""},
		{"Empty", ``, 400, "malformed_json", ""},
		{"UnknownField", `{"base_model":{"path":"m0"},"data":{"path":"train.jsonl"},"lamda":0.5}`, 422, "invalid", "lamda"},
		{"WrongType", `{"base_model":{"path":"m0"},"data":{"path":"train.jsonl"},"optimizer":{"lr":"fast"}}`, 422, "invalid", "optimizer.lr"},
		{"BadValue", `{"base_model":{"path":"m0"},"data":{"path":"train.jsonl"},"joint":{"lambda":1.5}}`, 422, "invalid", "joint.lambda"},
		{"MissingData", `{"base_model":{"path":"m0"}}`, 422, "invalid", "data.path"},
		{"DataDotDot", `{"base_model":{"path":"m0"},"data":{"path":"../../etc/passwd"}}`, 422, "invalid", "data.path"},
		{"DataAbsolute", `{"base_model":{"path":"m0"},"data":{"path":"/etc/passwd"}}`, 422, "invalid", "data.path"},
		{"DataSymlink", `{"base_model":{"path":"m0"},"data":{"path":"out/x.jsonl"}}`, 422, "invalid", "data.path"},
		{"DataMissing", `{"base_model":{"path":"m0"},"data":{"path":"nope.jsonl"}}`, 404, "not_found", "data.path"},
		{"ModelOutside", `{"base_model":{"path":"/tmp"},"data":{"path":"train.jsonl"}}`, 422, "invalid", "base_model.path"},
		{"TooLarge", `{"base_model":{"path":"` + strings.Repeat("a", api.DefaultMaxBody) + `"}}`, 413, "body_too_large", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.problem(h.req(http.MethodPost, "/v1/jobs", []byte(tc.body)), tc.status, tc.typ, tc.field)
		})
	}
	t.Run("NoRunner", func(t *testing.T) {
		h2 := newHarness(t, func(s *api.Server) { s.Runner = nil })
		h2.problem(h2.req(http.MethodPost, "/v1/jobs", []byte(h2.setupSpec())), 503, "unavailable", "")
	})
}

// A base model path without config.json is refused at once (422 naming
// base_model.path), not accepted as a job that fails later.
func TestCreateJob_NotAModelDirectory(t *testing.T) {
	h := newHarness(t)
	h.setupSpec()
	os.MkdirAll(filepath.Join(h.root, "models", "mdl_x"), 0o755)
	w := h.req(http.MethodPost, "/v1/jobs", []byte(`{"base_model":{"path":"models/mdl_x"},"data":{"path":"train.jsonl"}}`))
	p := h.problem(w, 422, "invalid", "base_model.path")
	if !strings.Contains(p.Detail, "models/mdl_x is not a model directory") || strings.Contains(p.Detail, h.root) {
		t.Errorf("detail = %q (must name the relative path, not the server's absolute one)", p.Detail)
	}
	if h.runner.Wakes() != 0 {
		t.Error("a refused job woke the runner")
	}
}

func TestListJobs(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	var ids []wmss.JobID
	for i := 0; i < 5; i++ {
		j, _, err := h.store.CreateJob(ctx, &wmss.Job{Kind: wmss.KindWMSS, Spec: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	if _, err := h.store.SetJobState(ctx, ids[1], wmss.StateRunning, ""); err != nil {
		t.Fatal(err)
	}
	t.Run("Pages", func(t *testing.T) {
		var got []wmss.JobID
		cursor := ""
		for pages := 0; ; pages++ {
			var l api.JobList
			h.json(h.req(http.MethodGet, "/v1/jobs?limit=2&cursor="+cursor, nil), 200, &l)
			for _, j := range l.Jobs {
				got = append(got, j.ID)
			}
			if l.NextCursor == "" {
				if pages != 2 {
					t.Errorf("%d pages, want 3", pages+1)
				}
				break
			}
			cursor = l.NextCursor
		}
		want := []wmss.JobID{ids[4], ids[3], ids[2], ids[1], ids[0]}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("ids = %v, want newest first %v", got, want)
		}
	})
	t.Run("StateFilter", func(t *testing.T) {
		var l api.JobList
		h.json(h.req(http.MethodGet, "/v1/jobs?state=running", nil), 200, &l)
		if len(l.Jobs) != 1 || l.Jobs[0].ID != ids[1] {
			t.Errorf("running = %+v", l.Jobs)
		}
	})
	for _, tc := range []struct{ name, query, field string }{
		{"BadState", "state=done", "state"}, {"BadKind", "kind=x", "kind"}, {"LimitZero", "limit=0", "limit"},
		{"LimitHuge", "limit=501", "limit"}, {"LimitNaN", "limit=ten", "limit"}, {"BadCursor", "cursor=job_nope", "cursor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.problem(h.req(http.MethodGet, "/v1/jobs?"+tc.query, nil), 422, "invalid", tc.field)
		})
	}
}

func TestGetCancelJob(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	queued, _, _ := h.store.CreateJob(ctx, &wmss.Job{Kind: wmss.KindWMSS})
	running, _, _ := h.store.CreateJob(ctx, &wmss.Job{Kind: wmss.KindWMSS})
	h.store.SetJobState(ctx, running.ID, wmss.StateRunning, "")
	var j wmss.Job
	h.json(h.req(http.MethodGet, "/v1/jobs/"+string(queued.ID), nil), 200, &j)
	if j.ID != queued.ID || j.State != wmss.StateQueued {
		t.Errorf("get = %+v", j)
	}
	h.problem(h.req(http.MethodGet, "/v1/jobs/job_nope", nil), 404, "not_found", "id")

	h.json(h.req(http.MethodPost, "/v1/jobs/"+string(queued.ID)+"/cancel", nil), 200, &j)
	if j.State != wmss.StateCancelled {
		t.Errorf("queued after cancel = %s", j.State)
	}
	h.json(h.req(http.MethodPost, "/v1/jobs/"+string(running.ID)+"/cancel", nil), 200, &j)
	if j.State != wmss.StateRunning || !j.CancelRequested {
		t.Errorf("running after cancel = %+v", j)
	}
	if c := h.runner.Canceled(); len(c) != 1 || c[0] != running.ID {
		t.Errorf("runner.Cancel calls = %v", c)
	}
	h.problem(h.req(http.MethodPost, "/v1/jobs/"+string(queued.ID)+"/cancel", nil), 409, "conflict", "state")
	h.problem(h.req(http.MethodPost, "/v1/jobs/job_nope/cancel", nil), 404, "not_found", "id")
}
