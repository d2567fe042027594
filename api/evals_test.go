package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/api"
	"github.com/wmss/wmss/internal/datastore"
)

func TestEvals(t *testing.T) {
	h := newHarness(t)
	var m datastore.Model
	h.json(h.req(http.MethodPost, "/v1/models/init", []byte(`{"name":"m"}`)), 201, &m)
	body := `{"model":"` + m.ID + `","benchmarks":["gsm8k","humaneval"],"limit":2,"generation":{"max_new_tokens":64}}`
	var j wmss.Job
	w := h.req(http.MethodPost, "/v1/evals", []byte(body), "Idempotency-Key", "e1")
	h.json(w, 201, &j)
	if j.Kind != wmss.KindEval || w.Header().Get("Location") != "/v1/evals/"+string(j.ID) || h.eval.Wakes() != 1 {
		t.Errorf("job = %+v, Location %q, wakes %d", j, w.Header().Get("Location"), h.eval.Wakes())
	}
	var spec api.EvalSpec
	json.Unmarshal(j.Spec, &spec)
	if spec.ModelID != m.ID || spec.Generation.Samples != 1 || spec.Generation.TopP != 1 || spec.Model == m.ID {
		t.Errorf("stored spec = %+v", spec)
	}
	var again wmss.Job
	h.json(h.req(http.MethodPost, "/v1/evals", []byte(body), "Idempotency-Key", "e1"), 200, &again)
	if again.ID != j.ID {
		t.Errorf("idempotent repeat gave %s, want %s", again.ID, j.ID)
	}
	for _, tc := range []struct{ name, body, field string }{
		{"NoBenchmarks", `{"model":"` + m.ID + `"}`, "benchmarks"},
		{"UnknownBenchmark", `{"model":"` + m.ID + `","benchmarks":["gsm8k","gsm9k"]}`, "benchmarks[1]"},
		{"Duplicate", `{"model":"` + m.ID + `","benchmarks":["gsm8k","gsm8k"]}`, "benchmarks[1]"},
		{"Temperature", `{"model":"` + m.ID + `","benchmarks":["gsm8k"],"generation":{"temperature":3}}`, "generation.temperature"},
		{"TopP", `{"model":"` + m.ID + `","benchmarks":["gsm8k"],"generation":{"top_p":1.5}}`, "generation.top_p"},
		{"Samples", `{"model":"` + m.ID + `","benchmarks":["gsm8k"],"generation":{"samples":-1}}`, "generation.samples"},
		{"NoModel", `{"benchmarks":["gsm8k"]}`, "model"},
		{"ModelTraversal", `{"model":"../../etc","benchmarks":["gsm8k"]}`, "model"},
		{"UnknownField", `{"model":"` + m.ID + `","benchmarks":["gsm8k"],"temp":1}`, "temp"},
		{"WrongType", `{"model":"` + m.ID + `","benchmarks":"gsm8k"}`, "benchmarks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.problem(h.req(http.MethodPost, "/v1/evals", []byte(tc.body)), 422, "invalid", tc.field)
		})
	}
	h.problem(h.req(http.MethodPost, "/v1/evals", []byte(`{"model":"mdl_00000000000000000000","benchmarks":["gsm8k"]}`)), 404, "not_found", "model")

	t.Run("ResultsAndSummary", func(t *testing.T) {
		for i := 0; i < 5; i++ {
			b := "gsm8k"
			if i >= 3 {
				b = "humaneval"
			}
			h.eval.Items[j.ID] = append(h.eval.Items[j.ID], api.EvalItem{Index: i, Benchmark: b, Correct: i%2 == 0})
		}
		var l api.EvalItemList
		h.json(h.req(http.MethodGet, "/v1/evals/"+string(j.ID)+"/results?limit=2", nil), 200, &l)
		if len(l.Items) != 2 || l.NextAfter == nil || *l.NextAfter != 1 {
			t.Fatalf("page 1 = %+v", l)
		}
		h.json(h.req(http.MethodGet, "/v1/evals/"+string(j.ID)+"/results?limit=2&after=1", nil), 200, &l)
		if len(l.Items) != 2 || l.Items[0].Index != 2 {
			t.Errorf("page 2 = %+v", l)
		}
		l = api.EvalItemList{}
		h.json(h.req(http.MethodGet, "/v1/evals/"+string(j.ID)+"/results?benchmark=humaneval", nil), 200, &l)
		if len(l.Items) != 2 || l.NextAfter != nil {
			t.Errorf("humaneval = %+v", l)
		}
		h.problem(h.req(http.MethodGet, "/v1/evals/"+string(j.ID)+"/results?after=-2", nil), 422, "invalid", "after")
		h.problem(h.req(http.MethodGet, "/v1/evals/"+string(j.ID)+"/summary", nil), 409, "conflict", "state")
		ctx := context.Background()
		h.store.SetJobState(ctx, j.ID, wmss.StateRunning, "")
		h.store.SetSummary(ctx, j.ID, json.RawMessage(`{"gsm8k":{"accuracy":0.5}}`))
		w := h.req(http.MethodGet, "/v1/evals/"+string(j.ID)+"/summary", nil)
		if w.Code != 200 || w.Body.String() != `{"gsm8k":{"accuracy":0.5}}` {
			t.Errorf("summary = %d %s", w.Code, w.Body)
		}
		var got wmss.Job
		h.json(h.req(http.MethodGet, "/v1/evals/"+string(j.ID), nil), 200, &got)
		var list api.JobList
		h.json(h.req(http.MethodGet, "/v1/evals", nil), 200, &list)
		if len(list.Jobs) != 1 || list.Jobs[0].ID != j.ID {
			t.Errorf("evals = %+v", list)
		}
	})
	t.Run("TrainingJobIsNotAnEval", func(t *testing.T) {
		tj, _, _ := h.store.CreateJob(context.Background(), &wmss.Job{Kind: wmss.KindWMSS})
		h.problem(h.req(http.MethodGet, "/v1/evals/"+string(tj.ID), nil), 404, "not_found", "id")
		h.problem(h.req(http.MethodGet, "/v1/evals/"+string(tj.ID)+"/summary", nil), 404, "not_found", "id")
	})
	t.Run("NotWired", func(t *testing.T) {
		h2 := newHarness(t, func(s *api.Server) { s.Evaluator = nil })
		h2.problem(h2.req(http.MethodPost, "/v1/evals", []byte(body)), 503, "unavailable", "")
		h2.problem(h2.req(http.MethodGet, "/v1/evals/"+string(j.ID)+"/results", nil), 503, "unavailable", "")
	})
}
