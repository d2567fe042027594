package training_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/training"
)

// startRunner runs a Runner in the background until the test ends.
func startRunner(t *testing.T, store wmss.JobStore, eng training.Engine, dataDir string) (*training.Runner, context.CancelFunc) {
	return startRunnerOpts(t, store, eng, training.RunnerOptions{DataDir: dataDir})
}

func startRunnerOpts(t *testing.T, store wmss.JobStore, eng training.Engine, o training.RunnerOptions) (*training.Runner, context.CancelFunc) {
	t.Helper()
	o.Poll, o.Logger = 20*time.Millisecond, slog.New(slog.DiscardHandler)
	r := training.NewRunner(store, eng, o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := r.Run(ctx); err != nil {
			t.Errorf("runner: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return r, cancel
}

// waitState polls until job id is in one of the states (10 s at most).
func waitState(t *testing.T, store wmss.JobStore, id wmss.JobID, states ...wmss.JobState) *wmss.Job {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		j := getJob(t, store, id)
		if slices.Contains(states, j.State) {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s is %s after 10 s, want one of %v (error %q)", id, j.State, states, j.Error)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// runRunnerUntil starts a runner and waits until job id ends.
func runRunnerUntil(t *testing.T, store wmss.JobStore, eng training.Engine, dataDir string, id wmss.JobID) *wmss.Job {
	t.Helper()
	r, _ := startRunner(t, store, eng, dataDir)
	r.Wake()
	return waitState(t, store, id, wmss.StateSucceeded, wmss.StateFailed, wmss.StateCancelled)
}

func hasPrefix(r training.StepRequest, id wmss.JobID) bool {
	return strings.HasPrefix(r.Trainer, string(id)+"/")
}

// One job at a time, oldest first; an engine exception, a bad data path and
// a panic each fail only their job, with the error text, and the runner
// goes on to the next.
func TestRunner_FIFOAndFailureIsolation(t *testing.T) {
	store, dataDir := newStore(t), t.TempDir()
	good := writeData(t, 8)
	opt := `"optimizer": {"lr": 1e-3, "global_batch": 4, "micro_batch": 2, "max_length": 64}`
	t0 := time.Now()
	engineErr := createJob(t, store, sftSpec(good, opt), t0.Add(1*time.Second))
	badPath := createJob(t, store, sftSpec(filepath.Join(t.TempDir(), "missing.jsonl"), opt), t0.Add(2*time.Second))
	panics := createJob(t, store, sftSpec(good, opt), t0.Add(3*time.Second))
	ok := createJob(t, store, sftSpec(good, opt), t0.Add(4*time.Second))
	// Created last but oldest: runs first.
	first := createJob(t, store, sftSpec(good, opt), t0)

	eng := newFakeEngine()
	eng.hook = func(ctx context.Context, r training.StepRequest, n int) error {
		switch {
		case hasPrefix(r, engineErr.ID):
			return &training.EngineError{Op: "sft_step", Type: "RuntimeError", Message: "mat1 and mat2 shapes cannot be multiplied",
				Traceback: "Traceback (most recent call last):\n  File \"train.py\", line 1\nRuntimeError: mat1"}
		case hasPrefix(r, panics.ID):
			panic("kaboom")
		}
		return nil
	}
	startRunner(t, store, eng, dataDir)
	j := waitState(t, store, ok.ID, wmss.StateSucceeded, wmss.StateFailed)
	if j.State != wmss.StateSucceeded {
		t.Fatalf("last job %s: %s", j.State, j.Error)
	}
	if j := getJob(t, store, first.ID); j.State != wmss.StateSucceeded {
		t.Errorf("first job %s: %s", j.State, j.Error)
	}

	j = getJob(t, store, engineErr.ID)
	if j.State != wmss.StateFailed || !strings.Contains(j.Error, "RuntimeError: mat1 and mat2 shapes cannot be multiplied") {
		t.Errorf("engine-error job: %s, %q; want failed with the Python type and message", j.State, j.Error)
	}
	var tb string
	for _, e := range events(t, store, engineErr.ID) {
		if e.Type == "engine_error" {
			tb = string(e.Data)
		}
	}
	if !strings.Contains(tb, "Traceback (most recent call last)") {
		t.Errorf("engine_error event %q lacks the traceback", tb)
	}
	j = getJob(t, store, badPath.ID)
	if j.State != wmss.StateFailed || !strings.Contains(j.Error, "data.path") || !strings.Contains(j.Error, "missing.jsonl") {
		t.Errorf("bad-path job: %s, %q; want failed naming data.path and the file", j.State, j.Error)
	}
	j = getJob(t, store, panics.ID)
	if j.State != wmss.StateFailed || !strings.Contains(j.Error, "panic: kaboom") {
		t.Errorf("panicking job: %s, %q", j.State, j.Error)
	}
	if !slices.Contains(eventTypes(events(t, store, panics.ID)), "panic") {
		t.Error("no panic event with the stack")
	}

	// Order of starts: by creation time, one at a time.
	var started []wmss.JobID
	store.mu.Lock()
	for _, s := range store.states {
		if id, st, _ := strings.Cut(s, " "); st == string(wmss.StateRunning) {
			started = append(started, wmss.JobID(id))
		}
	}
	store.mu.Unlock()
	want := []wmss.JobID{first.ID, engineErr.ID, badPath.ID, panics.ID, ok.ID}
	if !slices.Equal(started, want) {
		t.Errorf("start order %v, want %v", started, want)
	}
	// Steps never interleave: each job's steps are contiguous.
	var owners []string
	for _, c := range eng.stepCalls() {
		o, _, _ := strings.Cut(c.Trainer, "/")
		if len(owners) == 0 || owners[len(owners)-1] != o {
			owners = append(owners, o)
		}
	}
	if len(owners) != 2 {
		t.Errorf("step owners %v: want two jobs' steps, each contiguous", owners)
	}
}

// Cancel stops the running job within the step in flight: no further step
// runs, it ends cancelled with its checkpoint and resume state kept, and
// the next queued job runs.
func TestRunner_Cancel(t *testing.T) {
	store, dataDir := newStore(t), t.TempDir()
	opt := `"sft": {"epochs": 1}, "optimizer": {"lr": 1e-3, "global_batch": 2, "micro_batch": 1, "max_length": 64},
		"checkpoint": {"every_steps": 2, "keep_last": 2}`
	t0 := time.Now()
	victim := createJob(t, store, sftSpec(writeData(t, 8), opt), t0)
	next := createJob(t, store, sftSpec(writeData(t, 4), opt), t0.Add(time.Second))
	inStep := make(chan struct{})
	eng := newFakeEngine()
	eng.hook = func(ctx context.Context, r training.StepRequest, n int) error {
		if hasPrefix(r, victim.ID) && n == 3 {
			close(inStep)
			<-ctx.Done() // like the engine: the call ends when its context does
			return ctx.Err()
		}
		return nil
	}
	r, _ := startRunner(t, store, eng, dataDir)
	<-inStep
	if _, err := store.RequestCancel(context.Background(), victim.ID); err != nil {
		t.Fatal(err)
	}
	r.Cancel(victim.ID)
	j := waitState(t, store, victim.ID, wmss.StateCancelled, wmss.StateFailed, wmss.StateSucceeded)
	if j.State != wmss.StateCancelled {
		t.Fatalf("state %s (%q), want cancelled", j.State, j.Error)
	}
	steps := 0
	for _, c := range eng.stepCalls() {
		if hasPrefix(c, victim.ID) {
			steps++
		}
	}
	if steps != 2 {
		t.Errorf("%d steps of the cancelled job ran, want 2", steps)
	}
	st := resumeState(t, store, victim.ID)
	if st.Position.Step != 2 {
		t.Errorf("resume state at step %d, want 2", st.Position.Step)
	}
	if _, err := os.Stat(filepath.Join(training.JobDir(dataDir, victim.ID), st.Checkpoint, "trainer.json")); err != nil {
		t.Errorf("checkpoint not kept: %v", err)
	}
	if j := waitState(t, store, next.ID, wmss.StateSucceeded, wmss.StateFailed); j.State != wmss.StateSucceeded {
		t.Errorf("next job: %s %s", j.State, j.Error)
	}
	// A queued job marked for cancel never starts.
	q := createJob(t, store, sftSpec(writeData(t, 4), opt), time.Now())
	if _, err := store.RequestCancel(context.Background(), q.ID); err != nil {
		t.Fatal(err)
	}
	r.Wake()
	if j := getJob(t, store, q.ID); j.State != wmss.StateCancelled || j.StartedAt != nil {
		t.Errorf("queued job after cancel: %s, started %v", j.State, j.StartedAt)
	}
}

// A job left running by a dead process is re-queued when a runner starts
// and continues from its checkpoint: the new process runs only the
// remaining steps.
func TestRunner_RecoversRunningJob(t *testing.T) {
	store, dataDir := newStore(t), t.TempDir()
	spec := sftSpec(writeData(t, 8), `"sft": {"epochs": 1},
		"optimizer": {"lr": 1e-3, "global_batch": 1, "micro_batch": 1, "max_length": 64},
		"checkpoint": {"every_steps": 3, "keep_last": 1}`)
	job := createJob(t, store, spec, time.Now())
	if _, err := store.SetJobState(context.Background(), job.ID, wmss.StateRunning, ""); err != nil {
		t.Fatal(err)
	}
	dead := newFakeEngine()
	dead.hook = killAt(5)
	if _, err := runJob(t, store, dead, dataDir, job.ID); !errors.Is(err, errKilled) {
		t.Fatal(err)
	}
	eng := newFakeEngine()
	j := runRunnerUntil(t, store, eng, dataDir, job.ID)
	if j.State != wmss.StateSucceeded {
		t.Fatalf("%s: %s", j.State, j.Error)
	}
	if n := len(eng.stepCalls()); n != 5 {
		t.Errorf("the new process ran %d steps, want 5 (steps 4–8)", n)
	}
	ev := eventTypes(events(t, store, job.ID))
	for _, want := range []string{"requeued", "phase_resumed"} {
		if !slices.Contains(ev, want) {
			t.Errorf("no %s event in %v", want, ev)
		}
	}
	if ms := metrics(t, store, job.ID, "sft"); len(ms) != 8 {
		t.Errorf("%d metrics, want 8 (no step lost or doubled)", len(ms))
	}
}

// When the runner stops (server shutdown) and the running step does not end
// within DrainTimeout, the job is cancelled hard, goes back to queued and
// keeps its resume state.
func TestRunner_ShutdownRequeues(t *testing.T) {
	store, dataDir := newStore(t), t.TempDir()
	job := createJob(t, store, sftSpec(writeData(t, 8), `"optimizer": {"lr": 1e-3, "global_batch": 1, "micro_batch": 1, "max_length": 64},
		"checkpoint": {"every_steps": 2, "keep_last": 1}`), time.Now())
	inStep := make(chan struct{})
	eng := newFakeEngine()
	eng.hook = func(ctx context.Context, r training.StepRequest, n int) error {
		if n == 4 {
			close(inStep)
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}
	_, stop := startRunnerOpts(t, store, eng, training.RunnerOptions{DataDir: dataDir, DrainTimeout: 50 * time.Millisecond})
	<-inStep
	stop()
	j := waitState(t, store, job.ID, wmss.StateQueued)
	if len(j.Resume) == 0 {
		t.Error("resume state lost")
	}
	if !slices.Contains(eventTypes(events(t, store, job.ID)), "interrupted") {
		t.Error("no interrupted event")
	}
}

// A cancel marked only in the store (no Cancel call) is picked up by the
// runner's poll.
func TestRunner_CancelMarkInStore(t *testing.T) {
	store, dataDir := newStore(t), t.TempDir()
	job := createJob(t, store, sftSpec(writeData(t, 8), `"optimizer": {"lr": 1e-3, "global_batch": 1, "micro_batch": 1, "max_length": 64}`), time.Now())
	inStep := make(chan struct{})
	eng := newFakeEngine()
	eng.hook = func(ctx context.Context, r training.StepRequest, n int) error {
		if n == 2 {
			close(inStep)
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}
	startRunner(t, store, eng, dataDir)
	<-inStep
	if _, err := store.RequestCancel(context.Background(), job.ID); err != nil {
		t.Fatal(err)
	}
	if j := waitState(t, store, job.ID, wmss.StateCancelled, wmss.StateFailed, wmss.StateSucceeded); j.State != wmss.StateCancelled {
		t.Fatalf("%s: %s", j.State, j.Error)
	}
}

// The runner takes only its kinds: an eval job without an executor stays
// queued for the evaluator; with one, it runs in FIFO order on the engine.
func TestRunner_Kinds(t *testing.T) {
	store, dataDir := newStore(t), t.TempDir()
	ctx := context.Background()
	t0 := time.Now()
	eval, _, err := store.CreateJob(ctx, &wmss.Job{Kind: wmss.KindEval, Spec: []byte(`{}`), CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	train := createJob(t, store, sftSpec(writeData(t, 4), `"optimizer": {"lr": 1e-3, "global_batch": 2, "micro_batch": 2, "max_length": 64}`), t0.Add(time.Second))
	if j := runRunnerUntil(t, store, newFakeEngine(), dataDir, train.ID); j.State != wmss.StateSucceeded {
		t.Fatalf("training job: %s %s", j.State, j.Error)
	}
	if j := getJob(t, store, eval.ID); j.State != wmss.StateQueued {
		t.Errorf("eval job is %s, want left queued", j.State)
	}

	var ran []wmss.JobID
	r := training.NewRunner(store, newFakeEngine(), training.RunnerOptions{DataDir: dataDir, Poll: 20 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler), Executors: map[wmss.JobKind]training.Executor{
			wmss.KindEval: func(ctx context.Context, j *wmss.Job) (any, error) {
				ran = append(ran, j.ID)
				return map[string]float64{"gsm8k": 0.5}, nil
			}}})
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(rctx) }()
	j := waitState(t, store, eval.ID, wmss.StateSucceeded, wmss.StateFailed)
	cancel()
	<-done
	if j.State != wmss.StateSucceeded || string(j.Summary) != `{"gsm8k":0.5}` || !slices.Equal(ran, []wmss.JobID{eval.ID}) {
		t.Errorf("eval job %s, summary %s, executor ran %v", j.State, j.Summary, ran)
	}
}

// When the runner stops between steps, the training job drains: it writes a
// checkpoint at the boundary of the step that just ended, goes back to
// queued, and a new runner continues from exactly there (T01's rule: no
// step lost or run twice).
func TestRunner_ShutdownDrainsAtStepBoundary(t *testing.T) {
	store, dataDir := newStore(t), t.TempDir()
	job := createJob(t, store, sftSpec(writeData(t, 8), `"optimizer": {"lr": 1e-3, "global_batch": 1, "micro_batch": 1, "max_length": 64},
		"checkpoint": {"every_steps": 100, "keep_last": 1}`), time.Now())
	inStep, release := make(chan struct{}), make(chan struct{})
	eng := newFakeEngine()
	eng.hook = func(ctx context.Context, r training.StepRequest, n int) error {
		if n == 3 {
			close(inStep)
			<-release // the step finishes normally after the stop was asked
		}
		return nil
	}
	_, stop := startRunnerOpts(t, store, eng, training.RunnerOptions{DataDir: dataDir, DrainTimeout: time.Minute})
	<-inStep
	go func() { time.Sleep(50 * time.Millisecond); close(release) }()
	stop()
	j := waitState(t, store, job.ID, wmss.StateQueued)
	ev := eventTypes(events(t, store, job.ID))
	if !slices.Contains(ev, "drained") || !slices.Contains(ev, "interrupted") {
		t.Errorf("events %v, want drained and interrupted", ev)
	}
	var st struct {
		Position struct{ Step int }
	}
	if err := json.Unmarshal(j.Resume, &st); err != nil || st.Position.Step != 3 {
		t.Fatalf("resume position %+v (%v), want step 3: the checkpoint is at the boundary after the running step", st, err)
	}
	eng2 := newFakeEngine()
	if j := runRunnerUntil(t, store, eng2, dataDir, job.ID); j.State != wmss.StateSucceeded {
		t.Fatalf("%s: %s", j.State, j.Error)
	}
	// sft_baseline: 2 epochs of 8 one-sample steps = 16 steps.
	if n := len(eng2.stepCalls()); n != 13 {
		t.Errorf("the new runner ran %d steps, want 13 (steps 4–16)", n)
	}
	if ms := metrics(t, store, job.ID, "sft"); len(ms) != 16 {
		t.Errorf("%d metrics, want 16", len(ms))
	}
}
