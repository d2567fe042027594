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
	// Checkpoints are the directories the pipeline keeps on disk; an
	// unfinished .tmp one and stray files are not listed.
	ck := filepath.Join(h.root, "jobs", string(j.ID), "checkpoints")
	os.MkdirAll(filepath.Join(ck, "ckpt-000001-sft-step000004"), 0o755)
	os.WriteFile(filepath.Join(ck, "ckpt-000001-sft-step000004", "trainer.pt"), make([]byte, 100), 0o644)
	os.WriteFile(filepath.Join(ck, "ckpt-000001-sft-step000004", "state.json"), make([]byte, 20), 0o644)
	os.MkdirAll(filepath.Join(ck, "ckpt-000002-joint.2-step000010"), 0o755)
	os.MkdirAll(filepath.Join(ck, "ckpt-000003-joint.2-step000012.tmp"), 0o755)
	os.WriteFile(filepath.Join(ck, "notes.txt"), nil, 0o644)
	var cl api.CheckpointList
	h.json(h.req(http.MethodGet, "/v1/jobs/"+string(j.ID)+"/checkpoints", nil), 200, &cl)
	if len(cl.Checkpoints) != 2 {
		t.Fatalf("checkpoints = %+v", cl)
	}
	if c := cl.Checkpoints[0]; c.Phase != "sft" || c.Step != 4 || c.Bytes != 120 || c.Path != "jobs/"+string(j.ID)+"/checkpoints/ckpt-000001-sft-step000004" {
		t.Errorf("checkpoint 0 = %+v", c)
	}
	if c := cl.Checkpoints[1]; c.Phase != "joint.2" || c.Step != 10 {
		t.Errorf("checkpoint 1 = %+v", c)
	}
	other, _, _ := h.store.CreateJob(ctx, &wmss.Job{Kind: wmss.KindWMSS})
	h.json(h.req(http.MethodGet, "/v1/jobs/"+string(other.ID)+"/checkpoints", nil), 200, &cl)
	if cl.Checkpoints == nil || len(cl.Checkpoints) != 0 {
		t.Errorf("a job without checkpoints: %+v", cl)
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
