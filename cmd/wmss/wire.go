package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/api"
	"github.com/wmss/wmss/bridge"
	"github.com/wmss/wmss/evaluators/benchmarks"
	"github.com/wmss/wmss/evaluators/evaljob"
	"github.com/wmss/wmss/evaluators/evalrun"
	"github.com/wmss/wmss/evaluators/sandbox"
	"github.com/wmss/wmss/internal/report"
	"github.com/wmss/wmss/internal/sqlite"
	"github.com/wmss/wmss/training"
)

// engineDeps are the pieces of the server that need the embedded engine.
type engineDeps struct {
	runner    *training.Runner
	evaluator *evaluator
	creator   modelCreator
}

// wireEngine builds the job runner (training jobs and evaluation jobs on one
// queue, one job on the engine at a time), the evaluator the API reads
// results from, and the model creator. benchDir may be "" when the
// benchmark data is absent: evaluation jobs then fail with that reason.
func wireEngine(ip *bridge.Interpreter, store *sqlite.DB, dataDir, benchDir string, heldout *training.DataSpec, logger *slog.Logger) *engineDeps {
	deps := evalrun.Deps{Gen: bridge.Generator{IP: ip}, Symbolic: bridge.Symbolic{IP: ip}}
	if sandbox.Available() == nil {
		deps.Code = codeScorer{sb: sandbox.Default()}
	}
	jobs := &evaljob.Jobs{DataDir: dataDir, BenchDir: benchDir, Deps: deps, Store: store}
	r := training.NewRunner(store, bridge.NewEngine(ip), training.RunnerOptions{
		DataDir: dataDir,
		Heldout: heldout,
		// On SIGTERM a training job stops at its next step boundary with a
		// checkpoint there; serve waits for the runner a little longer.
		DrainTimeout: 20 * time.Second,
		// The pipeline spec's optional evaluation after phases runs in the
		// training job, on the same engine, with greedy decoding.
		Evaluate: func(ctx context.Context, job *wmss.Job, ev *training.EvaluationSpec, phase, modelDir string) error {
			return jobs.EvaluatePhase(ctx, job, ev.Benchmarks, ev.Limit, ev.MaxNewTokens, phase, modelDir)
		},
		Executors: map[wmss.JobKind]training.Executor{wmss.KindEval: jobs.Execute},
		Logger:    logger,
	})
	return &engineDeps{runner: r, evaluator: &evaluator{Runner: r, jobs: jobs}, creator: modelCreator{ip}}
}

// findBenchDir returns $WMSS_BENCH_DATA or ../shared/data found from the
// working directory or the executable, "" when neither exists.
func findBenchDir() string {
	if d := envOr("WMSS_BENCH_DATA", ""); d != "" {
		return d
	}
	if d, err := benchmarks.FindDataDir("."); err == nil {
		return d
	}
	return ""
}

// evaluator adapts evaljob.Jobs to api.Evaluator; Wake and Cancel go to the
// shared runner.
type evaluator struct {
	wmss.Runner
	jobs *evaljob.Jobs
}

func (e *evaluator) Results(ctx context.Context, id wmss.JobID, benchmark string, after, limit int) ([]api.EvalItem, error) {
	recs, err := e.jobs.Results(ctx, id, benchmark, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]api.EvalItem, len(recs))
	for i, r := range recs {
		out[i] = api.EvalItem{Index: r.Index, Benchmark: r.Benchmark, ItemID: r.ID, Sample: r.Sample, Output: r.Output,
			Extracted: r.Extracted, Gold: r.Gold, Verdict: r.Verdict, Correct: r.Correct, CompletionTokens: r.CompletionTokens,
			Prompt: r.Prompt, Strict: r.Strict, Flexible: r.Flexible, Error: r.Error, FinishReason: r.FinishReason, TimeMS: r.TimeMS}
	}
	return out, nil
}

// reports implements api.ReportBuilder with internal/report.
type reports struct{ src report.Source }

func (r reports) Report(ctx context.Context, id, baseline wmss.JobID) ([]byte, error) {
	in, err := r.src.Build(ctx, id, baseline)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := report.Render(&b, in); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// modelCreator implements api.ModelCreator with the engine's init_model.
type modelCreator struct{ ip *bridge.Interpreter }

func (m modelCreator) CreateModel(ctx context.Context, dir, size string, seed uint64) error {
	_, err := m.ip.Call(ctx, "init_model", map[string]any{"out": dir, "size": size, "seed": seed})
	return err
}

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}
