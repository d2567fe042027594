package e2e_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/api"
	"github.com/wmss/wmss/internal/apiclient"
	"github.com/wmss/wmss/internal/datastore"
	"github.com/wmss/wmss/internal/e2e"
	"github.com/wmss/wmss/internal/sqlite"
)

const token = "e2e-token"

// deps are the implementations behind the server. To run the end-to-end
// test on the real engine, replace newDeps' runner, evaluator and model
// creator with the real ones (training.Runner, the evaluator, the bridge's
// init_model); nothing else changes.
type deps struct {
	runner    wmss.Runner
	evaluator api.Evaluator
	creator   api.ModelCreator
	wait      func() // waits for background work before the test ends
}

func newDeps(t *testing.T, store wmss.JobStore, root string) deps {
	r := &e2e.Runner{Store: store, Root: root, Steps: 3}
	ev := &e2e.Evaluator{Runner: e2e.Runner{Store: store}, Items: map[wmss.JobID][]api.EvalItem{"": {
		{Index: 0, Benchmark: "gsm8k", ItemID: "gsm8k/test/0", Output: "\\boxed{18}", Extracted: "18", Gold: "18", Verdict: "equal", Correct: true},
		{Index: 1, Benchmark: "gsm8k", ItemID: "gsm8k/test/1", Output: "3", Extracted: "3", Gold: "3", Verdict: "equal", Correct: true},
		{Index: 2, Benchmark: "gsm8k", ItemID: "gsm8k/test/2", Output: "no idea", Gold: "70000", Verdict: "no_answer"},
	}}}
	return deps{runner: r, evaluator: ev, creator: &e2e.ModelCreator{Vocab: 16, Hidden: 8}, wait: func() { r.Wait(); ev.Wait() }}
}

func TestEndToEnd(t *testing.T) {
	dir := t.TempDir()
	store, err := sqlite.Open(filepath.Join(dir, "wmss.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	root, _ := datastore.NewRoot(dir)
	datasets, _ := datastore.NewDatasets(root)
	models, _ := datastore.NewModels(root)
	d := newDeps(t, store, dir)
	defer d.wait()
	srv := httptest.NewServer(api.NewServer(&api.Server{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Token: token,
		Store: store, Runner: d.runner, Evaluator: d.evaluator, ModelCreator: d.creator,
		Root: root, Datasets: datasets, Models: models, PollInterval: 10 * time.Millisecond,
	}).Handler())
	defer srv.Close()
	ctx := context.Background()
	c, err := apiclient.NewClientWithResponses(srv.URL, apiclient.WithRequestEditorFn(func(ctx context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+token)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}

	// 1. Upload a dataset; a broken one is refused with its line and field.
	name := "train.jsonl"
	up, err := c.UploadDatasetWithBodyWithResponse(ctx, &apiclient.UploadDatasetParams{Name: &name}, "application/x-ndjson",
		strings.NewReader("{\"prompt\":\"1+1=\",\"completion\":\"2\"}\n{\"prompt\":\"2+2=\",\"completion\":\"4\"}\n"))
	if err != nil || up.JSON201 == nil {
		t.Fatalf("upload: %v %s", err, up.Body)
	}
	ds := up.JSON201
	if *ds.Rows != 2 || *ds.Name != name {
		t.Errorf("dataset = %+v", ds)
	}
	bad, _ := c.UploadDatasetWithBodyWithResponse(ctx, nil, "application/x-ndjson", strings.NewReader("{\"prompt\":\"a\"}\n"))
	if bad.JSON422 == nil || len(*bad.JSON422.Errors) != 1 || *(*bad.JSON422.Errors)[0].Line != 1 || *(*bad.JSON422.Errors)[0].Field != "completion" {
		t.Errorf("bad upload: %d %s", bad.StatusCode(), bad.Body)
	}

	// 2. Create a base model.
	size := "tiny"
	mr, err := c.CreateModelWithResponse(ctx, apiclient.CreateModelJSONRequestBody{Name: ptr("base"), Size: &size})
	if err != nil || mr.JSON201 == nil {
		t.Fatalf("create model: %v %s", err, mr.Body)
	}
	md, _ := c.GetModelWithResponse(ctx, *mr.JSON201.Id)
	if md.JSON200 == nil || *md.JSON200.NumParameters != 16*8 {
		t.Errorf("model detail: %s", md.Body)
	}

	// 3. Run a WMSS job with an Idempotency-Key and read its results.
	spec := apiclient.CreateJobJSONRequestBody{
		BaseModel: &apiclient.TrainingBaseModelSpec{Path: mr.JSON201.Path},
		Data:      &apiclient.TrainingDataSpec{Path: ds.Path},
		Sft:       &apiclient.TrainingPhaseSpec{Steps: ptr(3)},
		Optimizer: &apiclient.TrainingOptimizerSpec{GlobalBatch: ptr(2)},
	}
	key := "e2e-job-1"
	jr, err := c.CreateJobWithResponse(ctx, &apiclient.CreateJobParams{IdempotencyKey: &key}, spec)
	if err != nil || jr.JSON201 == nil {
		t.Fatalf("create job: %v %d %s", err, jr.StatusCode(), jr.Body)
	}
	id := *jr.JSON201.Id
	again, _ := c.CreateJobWithResponse(ctx, &apiclient.CreateJobParams{IdempotencyKey: &key}, spec)
	if again.JSON200 == nil || *again.JSON200.Id != id {
		t.Errorf("idempotent retry: %d %s", again.StatusCode(), again.Body)
	}
	job := waitJob(t, c, id)
	if *job.State != apiclient.WmssJobState(wmss.StateSucceeded) {
		t.Fatalf("job ended %s: %v", *job.State, job.Error)
	}
	evs, _ := c.ListJobEventsWithResponse(ctx, id, &apiclient.ListJobEventsParams{})
	if evs.JSON200 == nil || len(*evs.JSON200.Events) != 3 {
		t.Fatalf("events: %s", evs.Body)
	}
	frames := readStream(t, srv.URL+"/v1/jobs/"+id+"/events/stream")
	if want := "state phase state end"; strings.Join(frames, " ") != want {
		t.Errorf("stream events = %v, want %s", frames, want)
	}
	ms, _ := c.ListJobMetricsWithResponse(ctx, id, &apiclient.ListJobMetricsParams{})
	if ms.JSON200 == nil || len(*ms.JSON200.Metrics) != 3 {
		t.Fatalf("metrics: %s", ms.Body)
	}
	for i, m := range *ms.JSON200.Metrics {
		if loss := (*m.Values)["loss"]; *m.Step != i+1 || math.Abs(float64(loss)-2/float64(i+1)) > 1e-12 {
			t.Errorf("metric %d = step %d loss %v", i, *m.Step, loss)
		}
	}
	art, _ := c.GetJobArtifactWithResponse(ctx, id, "curriculum_weights.jsonl")
	if art.StatusCode() != 200 || string(art.Body) != "{\"index\":0,\"weight\":1}\n" {
		t.Errorf("artifact: %d %q", art.StatusCode(), art.Body)
	}
	cancel, _ := c.CancelJobWithResponse(ctx, id)
	if cancel.JSON409 == nil {
		t.Errorf("cancel of a finished job: %d %s", cancel.StatusCode(), cancel.Body)
	}

	// 4. Evaluate the model and read per-item results and the summary.
	er, err := c.CreateEvalWithResponse(ctx, nil, apiclient.CreateEvalJSONRequestBody{
		Model: mr.JSON201.Id, Benchmarks: &[]string{"gsm8k"}, Limit: ptr(3),
		Generation: &apiclient.ApiGenerationSpec{MaxNewTokens: ptr(64)},
	})
	if err != nil || er.JSON201 == nil {
		t.Fatalf("create eval: %v %s", err, er.Body)
	}
	eid := *er.JSON201.Id
	waitJob(t, c, eid)
	page, _ := c.ListEvalResultsWithResponse(ctx, eid, &apiclient.ListEvalResultsParams{Limit: ptr(2)})
	if page.JSON200 == nil || len(*page.JSON200.Items) != 2 || *page.JSON200.NextAfter != 1 {
		t.Fatalf("results page 1: %s", page.Body)
	}
	page, _ = c.ListEvalResultsWithResponse(ctx, eid, &apiclient.ListEvalResultsParams{After: page.JSON200.NextAfter})
	if page.JSON200 == nil || len(*page.JSON200.Items) != 1 || *(*page.JSON200.Items)[0].Verdict != "no_answer" {
		t.Fatalf("results page 2: %s", page.Body)
	}
	sum, _ := c.GetEvalSummaryWithResponse(ctx, eid)
	if sum.JSON200 == nil || (*sum.JSON200)["correct"] != 2.0 || (*sum.JSON200)["items"] != 3.0 {
		t.Errorf("summary: %s", sum.Body)
	}
}

func ptr[T any](v T) *T { return &v }

// waitJob polls a job until it ends (10 s at most).
func waitJob(t *testing.T, c *apiclient.ClientWithResponses, id string) *apiclient.WmssJob {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r, err := c.GetJobWithResponse(context.Background(), id)
		if err != nil || r.JSON200 == nil {
			t.Fatalf("get job: %v %s", err, r.Body)
		}
		if wmss.JobState(*r.JSON200.State).Terminal() {
			return r.JSON200
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("job %s did not end within 10 s", id)
	return nil
}

// readStream reads an SSE stream to its end and returns the event types.
func readStream(t *testing.T, url string) []string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var types []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if ev, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			types = append(types, ev)
		}
	}
	return types
}
