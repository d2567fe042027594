package training

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/wmss/wmss"
)

// Executor runs a job of a kind other than wmss and sft_baseline (an
// evaluation job, for instance) on the runner's engine. It returns the job
// summary (JSON-encodable, may be nil) and nil for success; its error text
// becomes the job's error.
type Executor func(ctx context.Context, job *wmss.Job) (summary any, err error)

// RunnerOptions configures a Runner.
type RunnerOptions struct {
	DataDir string // job files under DataDir/jobs/<id>; required
	// Heldout and Evaluate are passed to Run (see Env).
	Heldout  *DataSpec
	Evaluate func(ctx context.Context, job *wmss.Job, spec *EvaluationSpec, phase, modelDir string) error
	// Executors run further job kinds (eval, say), so that they queue for
	// the engine with the training jobs. The runner takes only the kinds
	// wmss, sft_baseline and those listed here; jobs of other kinds are left
	// to whoever runs them (for instance a separate evaluator).
	Executors map[wmss.JobKind]Executor
	// DrainTimeout bounds how long a stopping runner waits for the running
	// training job to reach its next optimizer-step boundary and write a
	// checkpoint there; after it the job is cancelled hard and resumes from
	// its previous checkpoint. Default 30 s.
	DrainTimeout time.Duration
	// Poll is how often an idle runner looks for queued jobs it was not
	// woken for, and how often it checks the running job's cancel mark in
	// the store (a backup for Cancel); default 5s.
	Poll   time.Duration
	Logger *slog.Logger // default slog.Default()
}

// Runner executes queued jobs one at a time on one engine, oldest first
// (FIFO by creation time). It implements wmss.Runner. It takes the job
// kinds wmss and sft_baseline, and the kinds of RunnerOptions.Executors.
//
// On start (Run) it re-queues the jobs a dead process left running; they
// continue from their checkpoints. A job's outcome:
//
//   - succeeded: every phase took all its planned steps;
//   - cancelled: Cancel was called for it (or it was marked before it
//     started); its last checkpoint stays on disk;
//   - queued again: the runner's context ended (the server is stopping);
//   - failed, with the error text: anything else, including an engine
//     exception (type and message; the traceback is in an "engine_error"
//     event) and a panic in Go (stack in a "panic" event). The runner goes
//     on with the next job.
type Runner struct {
	store  wmss.JobStore
	engine Engine
	opts   RunnerOptions
	log    *slog.Logger
	wake   chan struct{}

	mu      sync.Mutex
	current wmss.JobID
	cancel  context.CancelCauseFunc
}

var _ wmss.Runner = (*Runner)(nil)

// errCancelRequested is the cancel cause of a job stopped by Cancel.
var errCancelRequested = errors.New("cancel requested")

// NewRunner returns a runner over store and engine; call Run to start it.
func NewRunner(store wmss.JobStore, engine Engine, o RunnerOptions) *Runner {
	if o.Poll <= 0 {
		o.Poll = 5 * time.Second
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Runner{store: store, engine: engine, opts: o, log: o.Logger, wake: make(chan struct{}, 1)}
}

// Wake tells the runner that a job was queued.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Cancel stops job id if it is the running one: the context of its current
// engine call ends, the engine stops at its next cooperative check (within
// one step) and the job is stored as cancelled. Call the store's
// RequestCancel first; a job that is not running is left alone.
func (r *Runner) Cancel(id wmss.JobID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.current == id && r.cancel != nil {
		r.cancel(errCancelRequested)
	}
}

// Current returns the running job's id, "" when idle.
func (r *Runner) Current() wmss.JobID {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.current
}

// Run recovers jobs left running, then executes queued jobs until ctx ends.
// It returns nil when ctx ends and an error only when recovery fails.
func (r *Runner) Run(ctx context.Context) error {
	if err := r.Recover(ctx); err != nil {
		return err
	}
	for ctx.Err() == nil {
		job, err := r.next(ctx)
		if err != nil {
			if ctx.Err() == nil {
				r.log.Error("list queued jobs", "err", err)
			}
			job = nil
		}
		if job == nil {
			select {
			case <-ctx.Done():
			case <-r.wake:
			case <-time.After(r.opts.Poll):
			}
			continue
		}
		r.execute(ctx, job)
	}
	return nil
}

// Recover moves every job of the runner's kinds in state running back to
// queued (the process that ran it is gone), recording a "requeued" event.
// Run calls it first.
func (r *Runner) Recover(ctx context.Context) error {
	jobs, err := r.list(ctx, wmss.StateRunning)
	if err != nil {
		return fmt.Errorf("runner: list running jobs: %w", err)
	}
	for _, j := range jobs {
		if _, err := r.store.SetJobState(ctx, j.ID, wmss.StateQueued, ""); err != nil {
			return fmt.Errorf("runner: requeue %s: %w", j.ID, err)
		}
		_, _ = r.store.AppendEvent(ctx, j.ID, "requeued", map[string]any{
			"reason": "the process running the job stopped", "has_checkpoint": len(j.Resume) > 0})
		r.log.Info("requeued job left running", "job", j.ID)
	}
	return nil
}

// handles reports whether the runner takes jobs of kind k.
func (r *Runner) handles(k wmss.JobKind) bool {
	if k == wmss.KindWMSS || k == wmss.KindSFTBaseline {
		return true
	}
	_, ok := r.opts.Executors[k]
	return ok
}

// list returns every job of the runner's kinds in state s, newest first.
func (r *Runner) list(ctx context.Context, s wmss.JobState) ([]*wmss.Job, error) {
	var out []*wmss.Job
	var after wmss.JobID
	for {
		page, next, err := r.store.ListJobs(ctx, wmss.JobFilter{State: s, After: after, Limit: 500})
		if err != nil {
			return nil, err
		}
		for _, j := range page {
			if r.handles(j.Kind) {
				out = append(out, j)
			}
		}
		if next == "" {
			return out, nil
		}
		after = next
	}
}

// next returns the oldest queued job, or nil.
func (r *Runner) next(ctx context.Context) (*wmss.Job, error) {
	jobs, err := r.list(ctx, wmss.StateQueued)
	if err != nil || len(jobs) == 0 {
		return nil, err
	}
	return jobs[len(jobs)-1], nil
}

// errShutdown is the cancel cause of a job the stopping runner could not
// drain within DrainTimeout.
var errShutdown = errors.New("runner stopped")

// execute runs one job to its end state. When ctx ends (the server stops),
// the job is asked to drain: a training job stops at its next optimizer-step
// boundary after writing a checkpoint there; whatever has not stopped after
// DrainTimeout is cancelled. Either way it goes back to queued.
func (r *Runner) execute(ctx context.Context, job *wmss.Job) {
	jobCtx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancel(nil)
	drain, finished := make(chan struct{}), make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-finished:
			return
		case <-ctx.Done():
		}
		close(drain)
		select {
		case <-finished:
		case <-time.After(r.opts.DrainTimeout):
			cancel(errShutdown)
		}
	}()
	r.mu.Lock()
	r.current, r.cancel = job.ID, cancel
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.current, r.cancel = "", nil
		r.mu.Unlock()
	}()

	if _, err := r.store.SetJobState(ctx, job.ID, wmss.StateRunning, ""); err != nil {
		// Cancelled or changed since it was listed: nothing to run.
		r.log.Info("job not started", "job", job.ID, "err", err)
		return
	}
	fresh, err := r.store.GetJob(ctx, job.ID)
	if err != nil {
		r.log.Error("read job", "job", job.ID, "err", err)
		return
	}
	if fresh.CancelRequested {
		cancel(errCancelRequested)
	}
	// A cancel marked in the store without a Cancel call (another process,
	// or a lost call) is seen within one poll interval.
	go r.watchCancel(jobCtx, job.ID, cancel)
	_, _ = r.store.AppendEvent(ctx, job.ID, "started", map[string]any{"resume": len(fresh.Resume) > 0})
	r.log.Info("job started", "job", job.ID, "kind", job.Kind)
	summary, err := r.safeRun(jobCtx, fresh, drain)
	r.finish(ctx, jobCtx, fresh, summary, err)
}

// watchCancel polls the store until ctx ends and cancels the job when its
// cancel_requested mark appears.
func (r *Runner) watchCancel(ctx context.Context, id wmss.JobID, cancel context.CancelCauseFunc) {
	t := time.NewTicker(r.opts.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if j, err := r.store.GetJob(ctx, id); err == nil && j.CancelRequested {
			cancel(errCancelRequested)
			return
		}
	}
}

// safeRun runs the job, turning a panic into an error.
func (r *Runner) safeRun(ctx context.Context, job *wmss.Job, drain <-chan struct{}) (summary any, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicError{value: v, stack: string(debug.Stack())}
		}
	}()
	if ctx.Err() != nil { // cancelled before it started
		return nil, ctx.Err()
	}
	switch job.Kind {
	case wmss.KindWMSS, wmss.KindSFTBaseline:
		spec, err := DecodeSpec(job.Spec)
		if err != nil {
			return nil, err
		}
		if string(spec.Kind) != string(job.Kind) {
			return nil, wmss.FieldErrorf("kind", "the spec says %q but the job is %q", spec.Kind, job.Kind)
		}
		env := Env{Store: r.store, Engine: r.engine, DataDir: r.opts.DataDir, Heldout: r.opts.Heldout,
			Evaluate: r.opts.Evaluate, Logger: r.log, Drain: drain}
		if spec.Heldout != nil {
			env.Heldout = spec.Heldout
		}
		sum, err := Run(ctx, job, spec, env)
		if sum == nil {
			return nil, err
		}
		return sum, err
	default:
		return r.opts.Executors[job.Kind](ctx, job)
	}
}

// finish stores the job's end state (see Runner). It uses ctx without its
// cancellation, so the record is written also while the runner stops.
func (r *Runner) finish(ctx, jobCtx context.Context, job *wmss.Job, summary any, err error) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if summary != nil {
		if b, jerr := json.Marshal(summary); jerr == nil {
			if serr := r.store.SetSummary(sctx, job.ID, b); serr != nil {
				r.log.Error("store summary", "job", job.ID, "err", serr)
			}
		}
	}
	event := func(typ string, data any) { _, _ = r.store.AppendEvent(sctx, job.ID, typ, data) }
	var to wmss.JobState
	var msg string
	switch {
	case err == nil:
		to = wmss.StateSucceeded
		event("succeeded", nil)
	case errors.Is(context.Cause(jobCtx), errCancelRequested):
		to, msg = wmss.StateCancelled, "cancelled by request"
		event("cancelled", map[string]any{"keeps_checkpoint": true})
	case ctx.Err() != nil:
		to = wmss.StateQueued
		event("interrupted", map[string]any{"reason": "the runner stopped; the job resumes from its last checkpoint",
			"drained": errors.Is(err, ErrDrained)})
	default:
		to, msg = wmss.StateFailed, err.Error()
		var ee *EngineError
		var pe *panicError
		switch {
		case errors.As(err, &ee):
			event("engine_error", map[string]any{"op": ee.Op, "type": ee.Type, "message": ee.Message, "traceback": ee.Traceback})
		case errors.As(err, &pe):
			event("panic", map[string]any{"value": fmt.Sprint(pe.value), "stack": pe.stack})
		}
		var ve *ValidationError
		if errors.As(err, &ve) {
			event("data_invalid", map[string]any{"file": ve.File, "problems": ve.Problems})
		}
		event("failed", map[string]any{"error": msg, "code": wmss.ErrorCode(err)})
	}
	if _, serr := r.store.SetJobState(sctx, job.ID, to, msg); serr != nil {
		r.log.Error("store job state", "job", job.ID, "state", to, "err", serr)
		return
	}
	r.log.Info("job ended", "job", job.ID, "state", to, "err", msg)
}

// panicError is a panic recovered from a job.
type panicError struct {
	value any
	stack string
}

func (e *panicError) Error() string { return fmt.Sprintf("internal error: panic: %v", e.value) }
