package api_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/api"
)

func TestMetricsArtifacts(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	j, _, _ := h.store.CreateJob(ctx, &wmss.Job{Kind: wmss.KindWMSS})
	h.store.AddMetrics(ctx,
		wmss.Metric{JobID: j.ID, Phase: "sft", Step: 1, Values: map[string]float64{"loss": 2.5}},
		wmss.Metric{JobID: j.ID, Phase: "joint", Step: 1, Values: map[string]float64{"loss": 1.5, "lambda": 0.5}})
	os.MkdirAll(filepath.Join(h.root, "jobs", "x", "checkpoint-1"), 0o755)
	os.WriteFile(filepath.Join(h.root, "jobs", "x", "weights.jsonl"), []byte("{\"w\":1}\n"), 0o644)
	os.WriteFile(filepath.Join(t.TempDir(), "s"), nil, 0o644)
	h.store.PutArtifact(ctx, wmss.Artifact{JobID: j.ID, Name: "curriculum_weights.jsonl", Path: "jobs/x/weights.jsonl", Bytes: 8})
	h.store.PutArtifact(ctx, wmss.Artifact{JobID: j.ID, Name: "checkpoint/sft/step-1", Path: "jobs/x/checkpoint-1"})
	h.store.PutArtifact(ctx, wmss.Artifact{JobID: j.ID, Name: "escape", Path: "../../etc/passwd"})

	var ml api.MetricList
	h.json(h.req(http.MethodGet, "/v1/jobs/"+string(j.ID)+"/metrics", nil), 200, &ml)
	if len(ml.Metrics) != 2 {
		t.Errorf("metrics = %+v", ml)
	}
	h.json(h.req(http.MethodGet, "/v1/jobs/"+string(j.ID)+"/metrics?phase=joint", nil), 200, &ml)
	if len(ml.Metrics) != 1 || ml.Metrics[0].Values["lambda"] != 0.5 {
		t.Errorf("joint metrics = %+v", ml)
	}
	var al api.ArtifactList
	h.json(h.req(http.MethodGet, "/v1/jobs/"+string(j.ID)+"/artifacts", nil), 200, &al)
	if len(al.Artifacts) != 3 {
		t.Errorf("artifacts = %+v", al)
	}
	h.json(h.req(http.MethodGet, "/v1/jobs/"+string(j.ID)+"/checkpoints", nil), 200, &al)
	if len(al.Artifacts) != 1 || al.Artifacts[0].Name != "checkpoint/sft/step-1" {
		t.Errorf("checkpoints = %+v", al)
	}
	w := h.req(http.MethodGet, "/v1/jobs/"+string(j.ID)+"/artifacts/curriculum_weights.jsonl", nil)
	if w.Code != 200 || w.Body.String() != "{\"w\":1}\n" {
		t.Errorf("download = %d %q", w.Code, w.Body)
	}
	h.problem(h.req(http.MethodGet, "/v1/jobs/"+string(j.ID)+"/artifacts/checkpoint/sft/step-1", nil), 409, "conflict", "name")
	h.problem(h.req(http.MethodGet, "/v1/jobs/"+string(j.ID)+"/artifacts/escape", nil), 422, "invalid", "path")
	h.problem(h.req(http.MethodGet, "/v1/jobs/"+string(j.ID)+"/artifacts/nope", nil), 404, "not_found", "name")
	for _, p := range []string{"metrics", "artifacts", "checkpoints", "artifacts/x"} {
		h.problem(h.req(http.MethodGet, "/v1/jobs/job_nope/"+p, nil), 404, "not_found", "id")
	}
}
