package wmss

import (
	"context"
	"encoding/json"
)

// JobStore keeps jobs, their events, metrics and artifacts. The default
// implementation is internal/sqlite. Errors are *Error with ENOTFOUND for a
// missing job, ECONFLICT for a forbidden state change, EINVALID for a bad
// cursor.
type JobStore interface {
	// CreateJob stores j as queued; with an IdempotencyKey already used it
	// returns that earlier job and created == false.
	CreateJob(ctx context.Context, j *Job) (job *Job, created bool, err error)
	GetJob(ctx context.Context, id JobID) (*Job, error)
	// ListJobs lists newest first; next is the cursor of the following page, "" at the end.
	ListJobs(ctx context.Context, f JobFilter) (jobs []*Job, next JobID, err error)
	// SetJobState applies a transition allowed by CanTransition.
	SetJobState(ctx context.Context, id JobID, to JobState, errMsg string) (*Job, error)
	// RequestCancel marks a job; a queued one is cancelled at once.
	RequestCancel(ctx context.Context, id JobID) (*Job, error)
	SetProgress(ctx context.Context, id JobID, progress, resume json.RawMessage) error
	SetSummary(ctx context.Context, id JobID, summary json.RawMessage) error

	AppendEvent(ctx context.Context, id JobID, typ string, data any) (Event, error)
	// ListEvents returns up to limit events with seq > afterSeq, in order.
	ListEvents(ctx context.Context, id JobID, afterSeq int64, limit int) ([]Event, error)
	AddMetrics(ctx context.Context, ms ...Metric) error
	ListMetrics(ctx context.Context, id JobID, phase string) ([]Metric, error)
	PutArtifact(ctx context.Context, a Artifact) error
	ListArtifacts(ctx context.Context, id JobID) ([]Artifact, error)
}

// Runner executes queued jobs one at a time on the engine.
type Runner interface {
	// Wake tells the runner that a job was queued.
	Wake()
	// Cancel asks the running job id, if it is running, to stop within one
	// step, keeping its last checkpoint. The caller marks it in the store
	// (RequestCancel) first.
	Cancel(id JobID)
}
