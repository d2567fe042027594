package training_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/internal/sqlite"
	"github.com/wmss/wmss/training"
)

// recordingStore is a real SQLite store that also records progress writes
// and state changes, in order.
type recordingStore struct {
	*sqlite.DB
	mu       sync.Mutex
	progress []training.Progress
	states   []string // "<job> <state>"
}

func (s *recordingStore) SetProgress(ctx context.Context, id wmss.JobID, progress, resume json.RawMessage) error {
	var p training.Progress
	if err := json.Unmarshal(progress, &p); err != nil {
		return err
	}
	s.mu.Lock()
	s.progress = append(s.progress, p)
	s.mu.Unlock()
	return s.DB.SetProgress(ctx, id, progress, resume)
}

func (s *recordingStore) SetJobState(ctx context.Context, id wmss.JobID, to wmss.JobState, msg string) (*wmss.Job, error) {
	s.mu.Lock()
	s.states = append(s.states, string(id)+" "+string(to))
	s.mu.Unlock()
	return s.DB.SetJobState(ctx, id, to, msg)
}

func (s *recordingStore) takeProgress() []training.Progress {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.progress
	s.progress = nil
	return p
}

func newStore(t *testing.T) *recordingStore {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "wmss.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &recordingStore{DB: db}
}

// writeData writes n prompt/completion rows "q<i>" → "answer <i>" as JSONL
// and returns the path.
func writeData(t *testing.T, n int, extra ...string) string {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "{\"prompt\": \"q%d\", \"completion\": \"answer %d\"}\n", i, i)
	}
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	path := filepath.Join(t.TempDir(), "train.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// createJob stores a job of the spec's kind; created is its creation time.
func createJob(t *testing.T, store wmss.JobStore, spec string, created time.Time) *wmss.Job {
	t.Helper()
	var k struct {
		Kind wmss.JobKind `json:"kind"`
	}
	if err := json.Unmarshal([]byte(spec), &k); err != nil {
		t.Fatalf("spec: %v\n%s", err, spec)
	}
	if k.Kind == "" {
		k.Kind = wmss.KindWMSS
	}
	j, _, err := store.CreateJob(context.Background(), &wmss.Job{Kind: k.Kind, Spec: json.RawMessage(spec), CreatedAt: created})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func getJob(t *testing.T, store wmss.JobStore, id wmss.JobID) *wmss.Job {
	t.Helper()
	j, err := store.GetJob(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// runJob runs a stored job through training.Run, as one process would.
func runJob(t *testing.T, store wmss.JobStore, eng training.Engine, dataDir string, id wmss.JobID) (*training.Summary, error) {
	t.Helper()
	job := getJob(t, store, id)
	spec, err := training.DecodeSpec(job.Spec)
	if err != nil {
		t.Fatal(err)
	}
	return training.Run(context.Background(), job, spec, training.Env{Store: store, Engine: eng, DataDir: dataDir})
}

// errKilled stands for the process dying before a step.
var errKilled = errors.New("killed")

// killAt returns a hook that fails Step call n, as if the process died
// just before it (the steps before it and their checkpoints are on disk).
func killAt(n int) func(context.Context, training.StepRequest, int) error {
	return func(_ context.Context, _ training.StepRequest, i int) error {
		if i == n {
			return errKilled
		}
		return nil
	}
}

func resumeState(t *testing.T, store wmss.JobStore, id wmss.JobID) training.ResumeState {
	t.Helper()
	var st training.ResumeState
	if err := json.Unmarshal(getJob(t, store, id).Resume, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func metrics(t *testing.T, store wmss.JobStore, id wmss.JobID, phase string) []wmss.Metric {
	t.Helper()
	ms, err := store.ListMetrics(context.Background(), id, phase)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func events(t *testing.T, store wmss.JobStore, id wmss.JobID) []wmss.Event {
	t.Helper()
	ev, err := store.ListEvents(context.Background(), id, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func eventTypes(ev []wmss.Event) []string {
	var out []string
	for _, e := range ev {
		out = append(out, e.Type)
	}
	return out
}

func sftSpec(data string, extra string) string {
	return fmt.Sprintf(`{"kind": "sft_baseline", "seed": 7, "base_model": {"init": {"size": "tiny"}},
		"data": {"path": %q}, %s}`, data, extra)
}

// T01 (training-cases.md): 12 samples of one micro-batch each, GA 4, a
// checkpoint after optimizer step 2, the process dies, a new one resumes.
// The first micro-batch after the resume is the 9th of the epoch (2×4), and
// the two runs together see every sample exactly once; 3 steps in all.
func TestRun_T01_ResumeSkipsMicroBatchesNotSteps(t *testing.T) {
	spec := sftSpec(writeData(t, 12), `"sft": {"epochs": 1},
		"optimizer": {"lr": 1e-3, "warmup_ratio": 0, "schedule": "constant", "global_batch": 4, "micro_batch": 1, "max_length": 64},
		"checkpoint": {"every_steps": 2, "keep_last": 5}`)
	store, dataDir := newStore(t), t.TempDir()

	ref := newFakeEngine()
	refJob := createJob(t, store, spec, time.Now())
	if _, err := runJob(t, store, ref, dataDir, refJob.ID); err != nil {
		t.Fatal(err)
	}
	want := ref.stepCalls()
	if len(want) != 3 {
		t.Fatalf("uninterrupted run: %d steps, want 3", len(want))
	}

	job := createJob(t, store, spec, time.Now())
	first := newFakeEngine()
	first.hook = killAt(3)
	if _, err := runJob(t, store, first, dataDir, job.ID); !errors.Is(err, errKilled) {
		t.Fatalf("first run: %v, want killed", err)
	}
	st := resumeState(t, store, job.ID)
	if want := (training.Position{Step: 2, Epoch: 0, MicroBatch: 8}); st.Position != want {
		t.Fatalf("saved position %+v, want %+v (micro-batches counted, not steps)", st.Position, want)
	}
	second := newFakeEngine()
	sum, err := runJob(t, store, second, dataDir, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	after := second.stepCalls()
	if len(after) != 1 {
		t.Fatalf("resumed run: %d steps, want 1", len(after))
	}
	if got, w := after[0].Indices[0], want[2].Indices[0]; got != w {
		t.Errorf("first micro-batch after resume = sample %d, want %d (the 9th of the epoch)", got, w)
	}
	seen := map[int]int{}
	for _, c := range append(first.stepCalls(), after...) {
		for _, i := range c.Indices {
			seen[i]++
		}
	}
	for i := range 12 {
		if seen[i] != 1 {
			t.Errorf("sample %d seen %d times, want 1 (all: %v)", i, seen[i], seen)
		}
	}
	if ps := sum.Phases[0]; ps.Steps != 3 || ps.TotalSteps != 3 || !ps.Done {
		t.Errorf("phase summary %+v, want 3 of 3 steps, done", ps)
	}
	if sum.Resumes != 1 {
		t.Errorf("resumes = %d, want 1", sum.Resumes)
	}
	// Checkpoints only on optimizer-step boundaries: after step 2 and at the end.
	dirs, _ := os.ReadDir(filepath.Join(training.JobDir(dataDir, job.ID), "checkpoints"))
	var names []string
	for _, d := range dirs {
		names = append(names, d.Name())
	}
	if want := []string{"ckpt-000001-sft-step000002", "ckpt-000002-sft-step000003"}; !slices.Equal(names, want) {
		t.Errorf("checkpoints %v, want %v", names, want)
	}
}

// T03: 8 samples, batch 2, 3 epochs = 12 steps, a checkpoint every 4 steps;
// the process dies after the step-4 save. The resumed run takes exactly 8
// steps and ends at step 12; progress goes 4/12 → 12/12.
func TestRun_T03_ResumeAtEpochBoundary(t *testing.T) {
	spec := sftSpec(writeData(t, 8), `"sft": {"epochs": 3},
		"optimizer": {"lr": 1e-3, "global_batch": 2, "micro_batch": 2, "max_length": 64},
		"checkpoint": {"every_steps": 4, "keep_last": 2}`)
	store, dataDir := newStore(t), t.TempDir()
	job := createJob(t, store, spec, time.Now())
	first := newFakeEngine()
	first.hook = killAt(5)
	if _, err := runJob(t, store, first, dataDir, job.ID); !errors.Is(err, errKilled) {
		t.Fatalf("first run: %v, want killed", err)
	}
	if st := resumeState(t, store, job.ID); st.Position != (training.Position{Step: 4, Epoch: 1, MicroBatch: 0}) {
		t.Fatalf("saved position %+v, want step 4 = epoch 1, micro-batch 0", st.Position)
	}
	store.takeProgress()
	second := newFakeEngine()
	sum, err := runJob(t, store, second, dataDir, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(second.stepCalls()); n != 8 {
		t.Errorf("resumed run took %d steps, want 8", n)
	}
	if ps := sum.Phases[0]; ps.Steps != 12 || ps.TotalSteps != 12 {
		t.Errorf("phase ended at %d of %d, want 12 of 12", ps.Steps, ps.TotalSteps)
	}
	prog := store.takeProgress()
	if p := prog[0]; p.Step != 4 || p.Total != 12 {
		t.Errorf("first progress after resume %+v, want 4/12", p)
	}
	if p := prog[len(prog)-1]; p.Step != 12 || p.Total != 12 {
		t.Errorf("last progress %+v, want 12/12", p)
	}
	ms := metrics(t, store, job.ID, "sft")
	if len(ms) != 12 || ms[0].Step != 1 || ms[11].Step != 12 {
		t.Errorf("metrics: %d steps (%d…%d), want steps 1…12", len(ms), ms[0].Step, ms[len(ms)-1].Step)
	}
}

// T03, second half: a job whose state says its phase is over although it
// took fewer steps than planned ends as failed with the reason, never as
// succeeded.
func TestRunner_T03_ShortPhaseFails(t *testing.T) {
	spec := sftSpec(writeData(t, 8), `"optimizer": {"lr": 1e-3, "global_batch": 2, "micro_batch": 2, "max_length": 64}`)
	store, dataDir := newStore(t), t.TempDir()
	job := createJob(t, store, spec, time.Now())
	// An exhausted loader restored into the next epoch (the verl bug) looks
	// like this: the phase is marked over at step 0 of 8.
	st := training.ResumeState{Version: training.ResumeVersion, Stage: 1,
		Summary: training.Summary{Kind: training.KindSFTBaseline, Phases: []training.PhaseSummary{{Name: "sft", Steps: 0, TotalSteps: 8, Done: true}}}}
	raw, _ := json.Marshal(st)
	ctx := context.Background()
	if _, err := store.SetJobState(ctx, job.ID, wmss.StateRunning, ""); err != nil {
		t.Fatal(err)
	}
	if err := store.SetProgress(ctx, job.ID, json.RawMessage(`{}`), raw); err != nil {
		t.Fatal(err)
	}
	j := runRunnerUntil(t, store, newFakeEngine(), dataDir, job.ID)
	if j.State != wmss.StateFailed || !strings.Contains(j.Error, "phase sft ended at step 0 of 8") {
		t.Fatalf("state %s, error %q; want failed naming the short phase", j.State, j.Error)
	}
}

// T04: linear decay, no warmup, peak 2e-4, 8 steps, checkpoint after step
// 3; after the resume steps 4–8 run at 1.25e-4, 1e-4, 7.5e-5, 5e-5, 2.5e-5,
// as in the uninterrupted run, and the saved scheduler position is 3.
func TestRun_T04_LRAfterResume(t *testing.T) {
	spec := sftSpec(writeData(t, 8), `"sft": {"epochs": 1},
		"optimizer": {"lr": 2e-4, "warmup_ratio": 0, "schedule": "linear", "global_batch": 1, "micro_batch": 1, "max_length": 64},
		"checkpoint": {"every_steps": 3, "keep_last": 1}`)
	store, dataDir := newStore(t), t.TempDir()
	ref := newFakeEngine()
	refJob := createJob(t, store, spec, time.Now())
	if _, err := runJob(t, store, ref, dataDir, refJob.ID); err != nil {
		t.Fatal(err)
	}
	job := createJob(t, store, spec, time.Now())
	first := newFakeEngine()
	first.hook = killAt(5) // dies during step 5, after the step-3 checkpoint
	if _, err := runJob(t, store, first, dataDir, job.ID); !errors.Is(err, errKilled) {
		t.Fatal(err)
	}
	if st := resumeState(t, store, job.ID); st.Position.Step != 3 || st.EngineSteps != 3 {
		t.Fatalf("saved scheduler position %d (engine %d), want 3", st.Position.Step, st.EngineSteps)
	}
	second := newFakeEngine()
	if _, err := runJob(t, store, second, dataDir, job.ID); err != nil {
		t.Fatal(err)
	}
	want := []float64{1.25e-4, 1.0e-4, 7.5e-5, 5.0e-5, 2.5e-5}
	calls, refCalls := second.stepCalls(), ref.stepCalls()
	if len(calls) != 5 {
		t.Fatalf("resumed run took %d steps, want 5", len(calls))
	}
	for i, c := range calls {
		if math.Abs(c.LR-want[i]) > 1e-18 || c.LR != refCalls[3+i].LR {
			t.Errorf("step %d: lr %v, want %v (uninterrupted run %v)", 4+i, c.LR, want[i], refCalls[3+i].LR)
		}
	}
	// The stored metrics carry the same values, and the losses equal the
	// uninterrupted run's (the fake's state went through the checkpoint).
	got, ref2 := metrics(t, store, job.ID, "sft"), metrics(t, store, refJob.ID, "sft")
	for i := range got {
		if got[i].Values["lr"] != ref2[i].Values["lr"] || got[i].Values["loss"] != ref2[i].Values["loss"] {
			t.Errorf("step %d: lr/loss %v/%v, uninterrupted %v/%v", got[i].Step, got[i].Values["lr"], got[i].Values["loss"],
				ref2[i].Values["lr"], ref2[i].Values["loss"])
		}
	}
}

// T24: a global batch without supervised tokens is skipped and counted; no
// metric with a NaN or 0.0 loss is stored, and the job still completes.
// Rows dropped before training are counted by reason with their lines.
func TestRun_T24_SkippedStepAndDroppedRows(t *testing.T) {
	data := writeData(t, 8,
		`{"prompt": "q", "completion": ""}`,                              // line 9: empty completion
		`{"prompt": "`+strings.Repeat("x", 40)+`", "completion": " 8."}`) // line 10: no completion token within 32
	spec := sftSpec(data, `"sft": {"epochs": 1},
		"optimizer": {"lr": 1e-3, "global_batch": 2, "micro_batch": 2, "max_length": 32}`)
	store, dataDir := newStore(t), t.TempDir()
	job := createJob(t, store, spec, time.Now())
	eng := newFakeEngine()
	eng.skip = func(idx []int) bool { return slices.Contains(idx, 3) }
	sum, err := runJob(t, store, eng, dataDir, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	d := sum.Data
	if d.Read != 9 || d.Kept != 8 || d.Dropped[training.ReasonEmptyCompletion] != 1 || d.Dropped[training.ReasonNoSupervisedTokens] != 1 {
		t.Errorf("data summary %+v: want 9 read (the empty row is dropped by the reader), 8 kept, one of each reason", d)
	}
	lines := map[string]int{}
	for _, p := range d.Problems {
		lines[p.Reason] = p.Line
	}
	if lines[training.ReasonEmptyCompletion] != 9 || lines[training.ReasonNoSupervisedTokens] != 10 {
		t.Errorf("problem lines %v, want empty_completion 9, no_supervised_tokens 10", lines)
	}
	ps := sum.Phases[0]
	if ps.Steps != 4 || ps.SkippedSteps != 1 {
		t.Errorf("phase %+v: want 4 steps, 1 skipped", ps)
	}
	ms := metrics(t, store, job.ID, "sft")
	if len(ms) != 3 {
		t.Errorf("%d metrics, want 3 (the skipped step has none)", len(ms))
	}
	for _, m := range ms {
		if l := m.Values["loss"]; math.IsNaN(l) || l == 0 {
			t.Errorf("step %d logged loss %v", m.Step, l)
		}
	}
	if !slices.Contains(eventTypes(events(t, store, job.ID)), "step_skipped") {
		t.Error("no step_skipped event")
	}
}

// The whole WMSS pipeline on the fake engine: init, pretraining, SFT, then
// two rounds of selection and joint training with a λ schedule; the joint
// phase trains on exactly the drawn samples.
func TestRun_WMSSPipelineTwoRounds(t *testing.T) {
	corpus := filepath.Join(t.TempDir(), "corpus.txt")
	if err := os.WriteFile(corpus, []byte(strings.Repeat("some text. ", 20)), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := fmt.Sprintf(`{"seed": 3, "rounds": 2,
		"base_model": {"init": {"size": "tiny", "seed": 5}, "pretrain": {"corpus": %q, "steps": 2,
			"optimizer": {"lr": 1e-3, "global_batch": 2, "micro_batch": 1, "max_length": 32}}},
		"data": {"path": %q},
		"joint": {"lambda_schedule": {"kind": "linear", "start": 0.3, "end": 0.6}, "weak": "frozen"},
		"optimizer": {"lr": 1e-3, "global_batch": 4, "micro_batch": 2, "max_length": 64},
		"checkpoint": {"every_steps": 1, "keep_last": 2}}`, corpus, writeData(t, 12))
	store, dataDir := newStore(t), t.TempDir()
	job := createJob(t, store, spec, time.Now())
	eng := newFakeEngine()
	j := runRunnerUntil(t, store, eng, dataDir, job.ID)
	if j.State != wmss.StateSucceeded {
		t.Fatalf("state %s: %s", j.State, j.Error)
	}
	var sum training.Summary
	if err := json.Unmarshal(j.Summary, &sum); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range sum.Phases {
		names = append(names, p.Name)
		if !p.Done || p.Steps != p.TotalSteps {
			t.Errorf("phase %+v not complete", p)
		}
	}
	if want := []string{"pretrain", "sft", "select", "joint", "select.2", "joint.2"}; !slices.Equal(names, want) {
		t.Errorf("phases %v, want %v", names, want)
	}
	if len(sum.Selection) != 2 || sum.Model != filepath.Join("jobs", string(job.ID), "model") {
		t.Errorf("selection summaries %d, model %q", len(sum.Selection), sum.Model)
	}
	// Joint steps: λ from the schedule (3 steps: 0.3, 0.45, 0.6) and the
	// indices are the drawn ones, each as often as drawn.
	calls := eng.stepCalls()
	var joint [][]training.StepRequest
	var cur []training.StepRequest
	for i, c := range calls {
		if c.Lambda != nil {
			cur = append(cur, c)
		}
		if len(cur) > 0 && (i == len(calls)-1 || calls[i+1].Lambda == nil || len(cur) == 3) {
			joint, cur = append(joint, cur), nil
		}
	}
	if len(joint) != 2 {
		t.Fatalf("joint rounds seen: %d, want 2", len(joint))
	}
	for r, round := range joint {
		for i, c := range round {
			if want := []float64{0.3, 0.45, 0.6}[i]; math.Abs(*c.Lambda-want) > 1e-12 {
				t.Errorf("round %d step %d: λ %v, want %v", r+1, i+1, *c.Lambda, want)
			}
		}
		name := "selection.jsonl"
		if r == 1 {
			name = "selection-r2.jsonl"
		}
		f, err := os.Open(filepath.Join(training.JobDir(dataDir, job.ID), name))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := training.ReadSelectionJSONL(f)
		f.Close()
		if err != nil || len(recs) != 12 {
			t.Fatalf("%s: %d records, %v", name, len(recs), err)
		}
		trained := map[int]int{}
		for _, c := range round {
			for _, i := range c.Indices {
				trained[i]++
			}
		}
		for _, rec := range recs {
			if trained[rec.Index] != rec.Draws {
				t.Errorf("%s: sample %d drawn %d times, trained %d times", name, rec.Index, rec.Draws, trained[rec.Index])
			}
		}
	}
	arts, _ := store.ListArtifacts(context.Background(), job.ID)
	var an []string
	for _, a := range arts {
		an = append(an, a.Name)
	}
	for _, want := range []string{"selection.jsonl", "selection.summary.json", "selection-r2.jsonl", "model/config.json"} {
		if !slices.Contains(an, want) {
			t.Errorf("artifact %s missing (have %v)", want, an)
		}
	}
	// keep_last 2: only two checkpoint directories remain.
	dirs, _ := os.ReadDir(filepath.Join(training.JobDir(dataDir, job.ID), "checkpoints"))
	if len(dirs) != 2 {
		t.Errorf("%d checkpoint dirs, want 2", len(dirs))
	}
	if ms := metrics(t, store, job.ID, "joint.2"); len(ms) != 3 || ms[0].Values["lambda"] != 0.3 {
		t.Errorf("joint.2 metrics: %v", ms)
	}
}

// Evaluation after phases goes to Env.Evaluate with the phase's model:
// with pretraining, "base" is the pretrained model; without an evaluator
// the request is recorded as skipped.
func TestRun_EvaluationHook(t *testing.T) {
	corpus := filepath.Join(t.TempDir(), "corpus.txt")
	if err := os.WriteFile(corpus, []byte("text for pretraining"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := fmt.Sprintf(`{"base_model": {"init": {}, "pretrain": {"corpus": %q, "steps": 1}},
		"data": {"path": %q}, "evaluation": {"after": ["base", "pretrain", "sft", "joint"], "benchmarks": ["gsm8k"]},
		"optimizer": {"lr": 1e-3, "global_batch": 4, "micro_batch": 2, "max_length": 64}}`, corpus, writeData(t, 8))
	store, dataDir := newStore(t), t.TempDir()
	job := createJob(t, store, spec, time.Now())
	j := getJob(t, store, job.ID)
	s, err := training.DecodeSpec(j.Spec)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	env := training.Env{Store: store, Engine: newFakeEngine(), DataDir: dataDir,
		Evaluate: func(ctx context.Context, _ *wmss.Job, ev *training.EvaluationSpec, phase, dir string) error {
			rel, _ := filepath.Rel(training.JobDir(dataDir, job.ID), dir)
			got = append(got, phase+"="+rel)
			return nil
		}}
	if _, err := training.Run(context.Background(), j, s, env); err != nil {
		t.Fatal(err)
	}
	want := []string{"base=models/m0", "pretrain=models/m0", "sft=models/m1", "joint=model"}
	if !slices.Equal(got, want) {
		t.Errorf("evaluations %v, want %v", got, want)
	}

	job2 := createJob(t, store, spec, time.Now())
	if _, err := runJob(t, store, newFakeEngine(), dataDir, job2.ID); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events(t, store, job2.ID) {
		if e.Type == "evaluation_skipped" {
			n++
		}
	}
	if n != 4 {
		t.Errorf("%d evaluation_skipped events, want 4", n)
	}
}
