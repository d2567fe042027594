package evaljob_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/evaluators/benchmarks"
	"github.com/wmss/wmss/evaluators/evaljob"
	"github.com/wmss/wmss/evaluators/evalrun"
	"github.com/wmss/wmss/internal/sqlite"
)

// echoGen answers every prompt with "\boxed{7}" (right only where the gold is 7).
type echoGen struct{}

func (echoGen) GenerateChat(ctx context.Context, req evalrun.GenRequest) ([][]evalrun.Completion, error) {
	out := make([][]evalrun.Completion, len(req.Prompts))
	for i := range out {
		for j := 0; j < req.N; j++ {
			out[i] = append(out[i], evalrun.Completion{Text: `\boxed{7}`, CompletionTokens: 3, FinishReason: "stop"})
		}
	}
	return out, nil
}

// setup finds the benchmark data (skipping without it) and makes a data
// directory with a stand-in model directory and an open store.
func setup(t *testing.T) (bench, data, model string, db *sqlite.DB) {
	t.Helper()
	bench, err := benchmarks.FindDataDir(".")
	if err != nil {
		t.Skipf("benchmark data not found: %v", err)
	}
	data = t.TempDir()
	model = filepath.Join(data, "m")
	os.MkdirAll(model, 0o755)
	os.WriteFile(filepath.Join(model, "config.json"), []byte(`{}`), 0o644)
	db, err = sqlite.Open(filepath.Join(data, "wmss.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return bench, data, model, db
}

func TestExecuteAndResults(t *testing.T) {
	bench, data, model, db := setup(t)
	ctx := context.Background()
	spec, _ := json.Marshal(evaljob.Spec{Model: model, Benchmarks: []string{"gsm8k", "svamp"}, Limit: 5,
		Generation: evaljob.Generation{Samples: 2}})
	job, _, err := db.CreateJob(ctx, &wmss.Job{Kind: wmss.KindEval, Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	j := &evaljob.Jobs{DataDir: data, BenchDir: bench, Deps: evalrun.Deps{Gen: echoGen{}}, Store: db}
	sum, err := j.Execute(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	res := sum.(*evalrun.Results)
	if len(res.Benchmarks) != 2 || res.Benchmarks[0].Problems != 5 || res.Benchmarks[0].Samples != 2 {
		t.Fatalf("results = %+v", res.Benchmarks)
	}
	if _, ok := res.Benchmarks[1].PassAtK["pass@2"]; !ok {
		t.Errorf("no pass@2 with 2 samples: %v", res.Benchmarks[1].PassAtK)
	}
	all, err := j.Results(ctx, job.ID, "", -1, 0)
	if err != nil || len(all) != 20 {
		t.Fatalf("all results: %d, %v", len(all), err)
	}
	page, err := j.Results(ctx, job.ID, "svamp", 12, 3)
	if err != nil || len(page) != 3 || page[0].Index != 13 || page[0].Benchmark != "svamp" {
		t.Fatalf("svamp page after 12: %+v, %v", page, err)
	}
	arts, _ := db.ListArtifacts(ctx, job.ID)
	if len(arts) != 2 || arts[0].Name != evaljob.ItemsFile || arts[1].Name != evaljob.ResultsFile {
		t.Errorf("artifacts = %+v", arts)
	}
	if _, err := j.Results(ctx, "job_none", "", -1, 10); wmss.ErrorCode(err) != wmss.ENOTFOUND {
		t.Errorf("unknown job: %v", err)
	}
}

func TestEvaluatePhase(t *testing.T) {
	bench, data, model, db := setup(t)
	ctx := context.Background()
	job, _, _ := db.CreateJob(ctx, &wmss.Job{Kind: wmss.KindWMSS})
	j := &evaljob.Jobs{DataDir: data, BenchDir: bench, Deps: evalrun.Deps{Gen: echoGen{}}, Store: db}
	if err := j.EvaluatePhase(ctx, job, []string{"svamp"}, 4, 32, "joint", model); err != nil {
		t.Fatal(err)
	}
	arts, _ := db.ListArtifacts(ctx, job.ID)
	if len(arts) != 2 || arts[0].Name != "eval-joint.items.jsonl" || arts[1].Name != "eval-joint.results.json" {
		t.Errorf("artifacts = %+v", arts)
	}
	evs, _ := db.ListEvents(ctx, job.ID, 0, 10)
	if len(evs) != 1 || evs[0].Type != "evaluation" || !strings.Contains(string(evs[0].Data), `"svamp"`) {
		t.Errorf("events = %+v", evs)
	}
}
