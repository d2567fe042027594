// Package evaljob runs evaluation jobs (kind "eval") queued in the job
// store: it decodes the stored spec, runs evalrun on the engine, writes the
// per-item records and the results to the job's directory, and serves the
// records back page by page. Its Execute has the shape of
// training.Executor, so evaluation jobs queue for the engine with the
// training jobs on one runner.
package evaljob

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/evaluators/evalrun"
)

// Spec is the stored spec of an evaluation job, as the API writes it
// (api.EvalSpec with Model resolved to an absolute model directory).
type Spec struct {
	Model      string     `json:"model"`
	ModelID    string     `json:"model_id,omitempty"`
	Benchmarks []string   `json:"benchmarks"`
	Limit      int        `json:"limit"`
	Generation Generation `json:"generation"`
}

// Generation holds the sampling settings of an evaluation job.
type Generation struct {
	MaxNewTokens int     `json:"max_new_tokens"` // 0: each benchmark's budget
	Temperature  float64 `json:"temperature"`    // 0: greedy
	TopP         float64 `json:"top_p"`
	TopK         int     `json:"top_k"`
	Samples      int     `json:"samples"` // n per item; default 1
	Seed         uint64  `json:"seed"`
}

// Jobs executes evaluation jobs and reads their records.
type Jobs struct {
	DataDir  string           // job files go to DataDir/jobs/<id>/
	BenchDir string           // the benchmark data (../shared/data)
	Deps     evalrun.Deps     // engine generator, code scorer, symbolic
	Store    wmss.JobStore    // progress and artifacts
	Now      func() time.Time // default time.Now
}

// Files of an evaluation job, under DataDir/jobs/<id>/.
const (
	ItemsFile   = "items.jsonl"
	ResultsFile = "results.json"
)

func (j *Jobs) dir(id wmss.JobID) string { return filepath.Join(j.DataDir, "jobs", string(id)) }

// Execute runs one evaluation job and returns its summary (*evalrun.Results).
func (j *Jobs) Execute(ctx context.Context, job *wmss.Job) (any, error) {
	var s Spec
	if err := json.Unmarshal(job.Spec, &s); err != nil {
		return nil, wmss.FieldErrorf("spec", "stored evaluation spec: %v", err)
	}
	k := []int{1}
	if s.Generation.Samples > 1 {
		k = append(k, s.Generation.Samples)
	}
	cfg := evalrun.Config{
		DataDir: j.BenchDir, ModelDir: s.Model, Benchmarks: s.Benchmarks, Limit: s.Limit,
		Samples: s.Generation.Samples, K: k, Seed: s.Generation.Seed, Temperature: s.Generation.Temperature,
		TopP: s.Generation.TopP, TopK: s.Generation.TopK, MaxNewTokens: s.Generation.MaxNewTokens,
	}
	deps := j.Deps
	last := time.Time{}
	deps.Progress = func(bench string, done, total int) {
		if time.Since(last) < 500*time.Millisecond && done < total {
			return
		}
		last = time.Now()
		p, _ := json.Marshal(map[string]any{"phase": "eval", "benchmark": bench, "step": done, "total": total})
		_ = j.Store.SetProgress(ctx, job.ID, p, nil)
	}
	_, _ = j.Store.AppendEvent(ctx, job.ID, "phase_started", map[string]any{"phase": "eval", "benchmarks": s.Benchmarks})
	res, items, err := evalrun.Run(ctx, cfg, deps)
	if err != nil {
		return nil, err
	}
	if err := j.writeRun(ctx, job.ID, ItemsFile, ResultsFile, res, items); err != nil {
		return nil, err
	}
	_, _ = j.Store.AppendEvent(ctx, job.ID, "phase_finished", map[string]any{"phase": "eval", "items": len(items)})
	return res, nil
}

// writeRun writes an evaluation's item records (JSONL) and results (JSON)
// to the job's directory as the artifacts itemsName and resultsName.
func (j *Jobs) writeRun(ctx context.Context, id wmss.JobID, itemsName, resultsName string, res *evalrun.Results, items []evalrun.Item) error {
	if err := os.MkdirAll(j.dir(id), 0o755); err != nil {
		return err
	}
	var buf []byte
	for _, it := range items {
		b, err := json.Marshal(it)
		if err != nil {
			return err
		}
		buf = append(append(buf, b...), '\n')
	}
	if err := j.writeArtifact(ctx, id, itemsName, buf); err != nil {
		return err
	}
	rb, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return j.writeArtifact(ctx, id, resultsName, rb)
}

// writeArtifact writes data to the job's directory atomically and records it.
func (j *Jobs) writeArtifact(ctx context.Context, id wmss.JobID, name string, data []byte) error {
	path := filepath.Join(j.dir(id), name)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	rel, err := filepath.Rel(j.DataDir, path)
	if err != nil {
		return err
	}
	return j.Store.PutArtifact(ctx, wmss.Artifact{JobID: id, Name: name, Path: rel, Bytes: int64(len(data)), SHA256: hex.EncodeToString(sum[:])})
}

// Results returns up to limit item records of job id with index > after
// (after = -1: from the first), only of benchmark when it is not "", with
// each record's index in the job's full list. A job without records yet is
// ENOTFOUND.
func (j *Jobs) Results(ctx context.Context, id wmss.JobID, benchmark string, after, limit int) ([]Record, error) {
	f, err := os.Open(filepath.Join(j.dir(id), ItemsFile))
	if os.IsNotExist(err) {
		return nil, &wmss.Error{Code: wmss.ENOTFOUND, Field: "id", Message: fmt.Sprintf("job %s has no results (yet)", id)}
	} else if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var out []Record
	for i := 0; sc.Scan(); i++ {
		if i <= after {
			continue
		}
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r.Item); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", ItemsFile, i+1, err)
		}
		if benchmark != "" && r.Benchmark != benchmark {
			continue
		}
		r.Index = i
		out = append(out, r)
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	return out, sc.Err()
}

// Record is an item record with its position in the job's list.
type Record struct {
	Index int
	evalrun.Item
}

// EvaluatePhase evaluates modelDir after a training job's phase (the
// pipeline spec's "evaluation" block) with greedy decoding, writes
// eval-<phase>.items.jsonl and eval-<phase>.results.json as artifacts of the
// training job, and records an "evaluation" event with the scores. Its
// shape fits training.RunnerOptions.Evaluate once the spec's fields are
// passed in.
func (j *Jobs) EvaluatePhase(ctx context.Context, job *wmss.Job, benchmarks []string, limit, maxNewTokens int, phase, modelDir string) error {
	cfg := evalrun.Config{DataDir: j.BenchDir, ModelDir: modelDir, Benchmarks: benchmarks, Limit: limit, MaxNewTokens: maxNewTokens}
	res, items, err := evalrun.Run(ctx, cfg, j.Deps)
	if err != nil {
		return fmt.Errorf("evaluation after %s: %w", phase, err)
	}
	if err := j.writeRun(ctx, job.ID, "eval-"+phase+".items.jsonl", "eval-"+phase+".results.json", res, items); err != nil {
		return err
	}
	scores := map[string]float64{}
	for _, b := range res.Benchmarks {
		scores[b.Name] = b.Score
	}
	_, err = j.Store.AppendEvent(ctx, job.ID, "evaluation", map[string]any{"phase": phase, "model": modelDir, "scores": scores})
	return err
}
