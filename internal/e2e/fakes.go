// Package e2e holds the test doubles of the API's dependencies (a runner,
// an evaluator, a model creator, a sandbox) and, in e2e_test.go, the
// end-to-end test that drives the server through the generated client.
// The doubles do real bookkeeping through the real job store (state
// transitions, events, metrics, artifacts); they stand in only for the
// engine's computation.
package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/api"
	"github.com/wmss/wmss/evaluators/sandbox"
)

// Runner is a wmss.Runner double. Wake counts calls; with Store set it also
// runs every queued job of a training kind to completion in the background:
// running, Steps metric rows of phase "sft" (loss = 2/step), a "phase"
// event, a curriculum weights artifact under Root, succeeded.
type Runner struct {
	Store wmss.JobStore
	Root  string // the data root, for artifacts
	Steps int

	mu       sync.Mutex
	wakes    int
	canceled []wmss.JobID
	wg       sync.WaitGroup
}

// Wake implements wmss.Runner.
func (r *Runner) Wake() {
	r.mu.Lock()
	r.wakes++
	r.mu.Unlock()
	if r.Store == nil {
		return
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.mu.Lock() // one job at a time, as the real runner
		defer r.mu.Unlock()
		if err := r.runQueued(context.Background()); err != nil {
			panic(err) // a test double: fail loudly
		}
	}()
}

// Cancel implements wmss.Runner.
func (r *Runner) Cancel(id wmss.JobID) {
	r.mu.Lock()
	r.canceled = append(r.canceled, id)
	r.mu.Unlock()
}

// Wakes returns the number of Wake calls.
func (r *Runner) Wakes() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.wakes
}

// Canceled returns the ids passed to Cancel.
func (r *Runner) Canceled() []wmss.JobID {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]wmss.JobID(nil), r.canceled...)
}

// Wait waits for the background work of every Wake so far.
func (r *Runner) Wait() { r.wg.Wait() }

func (r *Runner) runQueued(ctx context.Context) error {
	jobs, _, err := r.Store.ListJobs(ctx, wmss.JobFilter{State: wmss.StateQueued, Limit: 500})
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if j.Kind == wmss.KindEval {
			continue
		}
		if err := r.run(ctx, j.ID); err != nil {
			return err
		}
	}
	return nil
}

func (r *Runner) run(ctx context.Context, id wmss.JobID) error {
	if _, err := r.Store.SetJobState(ctx, id, wmss.StateRunning, ""); err != nil {
		return err
	}
	if _, err := r.Store.AppendEvent(ctx, id, "state", map[string]string{"state": "running"}); err != nil {
		return err
	}
	if _, err := r.Store.AppendEvent(ctx, id, "phase", map[string]string{"phase": "sft"}); err != nil {
		return err
	}
	for step := 1; step <= r.Steps; step++ {
		m := wmss.Metric{JobID: id, Phase: "sft", Step: step, Values: map[string]float64{"loss": 2 / float64(step), "lr": 1e-5}}
		if err := r.Store.AddMetrics(ctx, m); err != nil {
			return err
		}
	}
	rel := filepath.Join("jobs", string(id), "curriculum_weights.jsonl")
	data := []byte(`{"index":0,"weight":1}` + "\n")
	if err := os.MkdirAll(filepath.Join(r.Root, filepath.Dir(rel)), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(r.Root, rel), data, 0o644); err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	if err := r.Store.PutArtifact(ctx, wmss.Artifact{JobID: id, Name: "curriculum_weights.jsonl", Path: filepath.ToSlash(rel),
		Bytes: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}); err != nil {
		return err
	}
	if _, err := r.Store.AppendEvent(ctx, id, "state", map[string]string{"state": "succeeded"}); err != nil {
		return err
	}
	if err := r.Store.SetSummary(ctx, id, json.RawMessage(fmt.Sprintf(`{"steps":%d}`, r.Steps))); err != nil {
		return err
	}
	_, err := r.Store.SetJobState(ctx, id, wmss.StateSucceeded, "")
	return err
}

// Evaluator is an api.Evaluator double: it serves the Items set for a job
// (keyed by job id) and, with Store set, runs queued evaluation jobs by
// storing Items[""] as their results and a summary of their accuracy.
type Evaluator struct {
	Runner
	mu    sync.Mutex
	Items map[wmss.JobID][]api.EvalItem
}

// Wake runs queued eval jobs when Store is set.
func (e *Evaluator) Wake() {
	e.Runner.mu.Lock()
	e.wakes++
	e.Runner.mu.Unlock()
	if e.Store == nil {
		return
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		ctx := context.Background()
		jobs, _, err := e.Store.ListJobs(ctx, wmss.JobFilter{State: wmss.StateQueued, Kind: wmss.KindEval, Limit: 500})
		if err != nil {
			panic(err)
		}
		for _, j := range jobs {
			e.mu.Lock()
			items := e.Items[""]
			e.Items[j.ID] = items
			e.mu.Unlock()
			correct := 0
			for _, it := range items {
				if it.Correct {
					correct++
				}
			}
			if _, err := e.Store.SetJobState(ctx, j.ID, wmss.StateRunning, ""); err != nil {
				panic(err)
			}
			sum := fmt.Sprintf(`{"items":%d,"correct":%d}`, len(items), correct)
			if err := e.Store.SetSummary(ctx, j.ID, json.RawMessage(sum)); err != nil {
				panic(err)
			}
			if _, err := e.Store.SetJobState(ctx, j.ID, wmss.StateSucceeded, ""); err != nil {
				panic(err)
			}
		}
	}()
}

// Results implements api.Evaluator over Items[id].
func (e *Evaluator) Results(ctx context.Context, id wmss.JobID, benchmark string, after, limit int) ([]api.EvalItem, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []api.EvalItem
	for _, it := range e.Items[id] {
		if it.Index > after && (benchmark == "" || it.Benchmark == benchmark) && len(out) < limit {
			out = append(out, it)
		}
	}
	return out, nil
}

// ModelCreator is an api.ModelCreator double that writes a config.json and
// a one-tensor safetensors file of vocab·hidden float32 zeros, or fails
// with Err.
type ModelCreator struct {
	Vocab, Hidden int64
	Err           error
}

// CreateModel implements api.ModelCreator.
func (m *ModelCreator) CreateModel(ctx context.Context, dir, size string, seed uint64) error {
	if m.Err != nil {
		return m.Err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cfg := fmt.Sprintf(`{"model_type":"qwen3","vocab_size":%d,"hidden_size":%d,"tie_word_embeddings":true}`, m.Vocab, m.Hidden)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o644); err != nil {
		return err
	}
	n := m.Vocab * m.Hidden * 4
	hdr := fmt.Sprintf(`{"model.embed_tokens.weight":{"dtype":"F32","shape":[%d,%d],"data_offsets":[0,%d]}}`, m.Vocab, m.Hidden, n)
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	b = append(append(b, hdr...), make([]byte, n)...)
	return os.WriteFile(filepath.Join(dir, "model.safetensors"), b, 0o644)
}

// Sandbox is an api.SandboxRunner double returning Result and recording
// the last program and limits.
type Sandbox struct {
	Result sandbox.Result
	mu     sync.Mutex
	Last   sandbox.Program
	Limits sandbox.Limits
}

// Run implements api.SandboxRunner.
func (s *Sandbox) Run(ctx context.Context, p sandbox.Program, lim sandbox.Limits) sandbox.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Last, s.Limits = p, lim
	return s.Result
}
