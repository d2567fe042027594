package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/evaluators/benchmarks"
	"github.com/wmss/wmss/evaluators/evalrun"
	"github.com/wmss/wmss/internal/apiclient"
)

// TestEndToEnd_RealEngine drives `wmss serve` (real engine, SQLite store,
// job runner) with the client generated from the committed OpenAPI spec:
// upload a GSM8K-train slice, create a random model, run a small WMSS job,
// read its events, metrics and curriculum artifact, then evaluate its model
// and read the per-item results and the summary.
func TestEndToEnd_RealEngine(t *testing.T) {
	bench, err := benchmarks.FindDataDir(".")
	if err != nil {
		t.Skipf("benchmark data not found: %v", err)
	}
	train, err := benchmarks.Load(bench, "gsm8k-train")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("WMSS_TOKEN", "e2e-token")
	t.Setenv("WMSS_BENCH_DATA", bench)
	var logs bytes.Buffer
	m := NewMain(io.Discard, &logs)
	if err := m.ParseFlags([]string{"--addr", "127.0.0.1:0", "--data-dir", t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	var base string
	select {
	case a := <-m.Addr:
		base = "http://" + a.String()
	case err := <-done:
		t.Fatalf("serve ended: %v\n%s", err, logs.String())
	}
	c, err := apiclient.NewClientWithResponses(base, apiclient.WithRequestEditorFn(func(ctx context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer e2e-token")
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}

	// 1. Upload 24 GSM8K-train samples.
	var rows strings.Builder
	for _, it := range train.Items[:24] {
		b, _ := json.Marshal(map[string]string{"prompt": it.Question, "completion": it.Answer})
		rows.Write(append(b, '\n'))
	}
	name := "gsm8k-24.jsonl"
	up, err := c.UploadDatasetWithBodyWithResponse(ctx, &apiclient.UploadDatasetParams{Name: &name}, "application/x-ndjson", strings.NewReader(rows.String()))
	if err != nil || up.JSON201 == nil || *up.JSON201.Rows != 24 {
		t.Fatalf("upload: %v %s", err, up.Body)
	}

	// 2. A random tiny model through the engine's init_model.
	mr, err := c.CreateModelWithResponse(ctx, apiclient.CreateModelJSONRequestBody{Name: ptr("m0"), Size: ptr("tiny"), Seed: ptr(3)})
	if err != nil || mr.JSON201 == nil {
		t.Fatalf("create model: %v %s", err, mr.Body)
	}

	// 3. A WMSS job: 3 SFT steps, selection, 3 joint steps at λ = 0.3.
	lambda := 0.3
	jr, err := c.CreateJobWithResponse(ctx, nil, apiclient.CreateJobJSONRequestBody{
		BaseModel: &apiclient.TrainingBaseModelSpec{Path: mr.JSON201.Path},
		Data:      &apiclient.TrainingDataSpec{Path: up.JSON201.Path},
		Sft:       &apiclient.TrainingPhaseSpec{Steps: ptr(3)},
		Joint:     &apiclient.TrainingJointSpec{Steps: ptr(3), Lambda: &lambda},
		Optimizer: &apiclient.TrainingOptimizerSpec{GlobalBatch: ptr(4), MicroBatch: ptr(2), MaxLength: ptr(256), Lr: ptr(1e-3)},
	})
	if err != nil || jr.JSON201 == nil {
		t.Fatalf("create job: %v %s", err, jr.Body)
	}
	id := *jr.JSON201.Id
	if j := waitFor(t, c, id, 5*time.Minute); *j.State != apiclient.WmssJobState(wmss.StateSucceeded) {
		t.Fatalf("job %s: %s", *j.State, deref(j.Error))
	}
	ms, _ := c.ListJobMetricsWithResponse(ctx, id, &apiclient.ListJobMetricsParams{})
	if ms.JSON200 == nil {
		t.Fatalf("metrics: %s", ms.Body)
	}
	var sft, joint int
	for _, m := range *ms.JSON200.Metrics {
		v := *m.Values
		switch *m.Phase {
		case "sft":
			sft++
		case "joint":
			joint++
			if math.Abs(float64(v["lambda"])-lambda) > 1e-12 {
				t.Errorf("joint step %d: lambda %v, want %v", *m.Step, v["lambda"], lambda)
			}
		}
		if l := float64(v["loss"]); !(l > 0) || math.IsInf(l, 0) {
			t.Errorf("%s step %d: loss %v", *m.Phase, *m.Step, l)
		}
	}
	if sft != 3 || joint != 3 {
		t.Errorf("metrics: %d sft and %d joint steps, want 3 and 3", sft, joint)
	}
	art, _ := c.GetJobArtifactWithResponse(ctx, id, "selection.jsonl")
	if art.StatusCode() != 200 {
		t.Fatalf("selection artifact: %d %s", art.StatusCode(), art.Body)
	}
	var sum float64
	lines := strings.Split(strings.TrimSpace(string(art.Body)), "\n")
	for _, l := range lines {
		var r struct{ Weight float64 }
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("selection row %q: %v", l, err)
		}
		sum += r.Weight
	}
	// With byte-level tokens and max_length 256 some samples keep no
	// completion token and are dropped (and counted); the curriculum covers
	// exactly the kept ones.
	jg, _ := c.GetJobWithResponse(ctx, id)
	var js struct {
		Data struct {
			Kept    int
			Dropped map[string]int
		}
	}
	if jg.JSON200 == nil || json.Unmarshal(jg.Body, &struct{ Summary any }{&js}) != nil {
		t.Fatalf("job: %s", jg.Body)
	}
	dropped := 0
	for _, n := range js.Data.Dropped {
		dropped += n
	}
	if js.Data.Kept+dropped != 24 || len(lines) != js.Data.Kept || math.Abs(sum-1) > 1e-9 {
		t.Errorf("selection: %d rows, weights sum %v; summary kept %d dropped %v", len(lines), sum, js.Data.Kept, js.Data.Dropped)
	}

	// 4. Evaluate the job's model on 3 GSM8K-test items.
	model := "jobs/" + id + "/model"
	er, err := c.CreateEvalWithResponse(ctx, nil, apiclient.CreateEvalJSONRequestBody{
		Model: &model, Benchmarks: &[]string{"gsm8k"}, Limit: ptr(3),
		Generation: &apiclient.ApiGenerationSpec{MaxNewTokens: ptr(16)},
	})
	if err != nil || er.JSON201 == nil {
		t.Fatalf("create eval: %v %s", err, er.Body)
	}
	eid := *er.JSON201.Id
	if j := waitFor(t, c, eid, 2*time.Minute); *j.State != apiclient.WmssJobState(wmss.StateSucceeded) {
		t.Fatalf("eval %s: %s", *j.State, deref(j.Error))
	}
	page, _ := c.ListEvalResultsWithResponse(ctx, eid, &apiclient.ListEvalResultsParams{})
	if page.JSON200 == nil || len(*page.JSON200.Items) != 3 {
		t.Fatalf("results: %s", page.Body)
	}
	for _, it := range *page.JSON200.Items {
		if it.Prompt == nil || !strings.Contains(*it.Prompt, "\\boxed{}") || it.FinishReason == nil || it.Strict == nil || it.Flexible == nil {
			t.Errorf("result record lacks prompt, finish reason or strict/flexible: %+v", it)
		}
	}
	sr, _ := c.GetEvalSummaryWithResponse(ctx, eid)
	var res evalrun.Results
	if sr.StatusCode() != 200 || json.Unmarshal(sr.Body, &res) != nil || len(res.Benchmarks) != 1 || res.Benchmarks[0].Problems != 3 {
		t.Fatalf("summary: %d %s", sr.StatusCode(), sr.Body)
	}
}

func waitFor(t *testing.T, c *apiclient.ClientWithResponses, id string, d time.Duration) *apiclient.WmssJob {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		r, err := c.GetJobWithResponse(context.Background(), id)
		if err != nil || r.JSON200 == nil {
			t.Fatalf("get job %s: %v %s", id, err, r.Body)
		}
		if wmss.JobState(*r.JSON200.State).Terminal() {
			return r.JSON200
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("job %s did not end within %s", id, d)
	return nil
}

func ptr[T any](v T) *T { return &v }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return fmt.Sprint(*s)
}
