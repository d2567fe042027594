package wmss

import (
	"encoding/json"
	"time"
)

// JobID identifies a job, e.g. "job_01hf3k8z6w9c4d2e". It is opaque to clients.
type JobID string

// JobKind says what a job does.
type JobKind string

// Job kinds. Stored in the database: never rename one.
const (
	KindWMSS        JobKind = "wmss"         // the WMSS pipeline (Algorithm 1)
	KindSFTBaseline JobKind = "sft_baseline" // SFT only, same budget: the control
	KindEval        JobKind = "eval"         // evaluation of a model on benchmarks
)

// JobState is where a job is in its life.
//
//	queued → running → succeeded | failed | cancelled
//	queued → cancelled
//	running → queued   (the server stopped or died; the job resumes from its checkpoint)
type JobState string

// Job states. Stored in the database: never rename one.
const (
	StateQueued    JobState = "queued"
	StateRunning   JobState = "running"
	StateSucceeded JobState = "succeeded"
	StateFailed    JobState = "failed"
	StateCancelled JobState = "cancelled"
)

// Terminal reports whether no transition leaves s.
func (s JobState) Terminal() bool {
	return s == StateSucceeded || s == StateFailed || s == StateCancelled
}

// transitions lists every allowed state change.
var transitions = map[JobState][]JobState{
	StateQueued:  {StateRunning, StateCancelled, StateFailed},
	StateRunning: {StateSucceeded, StateFailed, StateCancelled, StateQueued},
}

// CanTransition reports whether a job may move from one state to another.
func CanTransition(from, to JobState) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Job is a training or evaluation job as stored.
type Job struct {
	ID              JobID           `json:"id"`
	Kind            JobKind         `json:"kind"`
	State           JobState        `json:"state"`
	CancelRequested bool            `json:"cancel_requested"`
	Spec            json.RawMessage `json:"spec"`               // the pipeline or evaluation spec as submitted
	IdempotencyKey  string          `json:"-"`                  // from the Idempotency-Key header
	Error           string          `json:"error,omitempty"`    // why it failed
	Progress        json.RawMessage `json:"progress,omitempty"` // phase, step, total steps
	Resume          json.RawMessage `json:"-"`                  // Go-side checkpoint state for resume
	Summary         json.RawMessage `json:"summary,omitempty"`  // written when the job ends
	CreatedAt       time.Time       `json:"created_at"`
	StartedAt       *time.Time      `json:"started_at,omitempty"`
	FinishedAt      *time.Time      `json:"finished_at,omitempty"`
}

// Event is one entry of a job's event log (state changes, phase changes,
// checkpoints, warnings). Seq numbers start at 1 per job and have no gaps.
type Event struct {
	JobID JobID           `json:"job_id"`
	Seq   int64           `json:"seq"`
	Time  time.Time       `json:"time"`
	Type  string          `json:"type"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// Metric is the record of one optimizer step (or one evaluation) of a job.
// Values holds the named numbers: loss (nats/token), lr, lambda, grad_norm,
// tokens_per_s, and the logit statistics.
type Metric struct {
	JobID  JobID              `json:"job_id"`
	Phase  string             `json:"phase"`
	Step   int                `json:"step"`
	Time   time.Time          `json:"time"`
	Values map[string]float64 `json:"values"`
}

// Artifact is a file a job produced (a curriculum weights file, a report,
// a checkpoint, the final model), stored under the data directory.
type Artifact struct {
	JobID     JobID     `json:"job_id"`
	Name      string    `json:"name"`
	Path      string    `json:"path"` // relative to the data directory
	Bytes     int64     `json:"bytes"`
	SHA256    string    `json:"sha256"`
	CreatedAt time.Time `json:"created_at"`
}

// JobFilter selects jobs for listing. Zero fields match everything.
type JobFilter struct {
	State JobState
	Kind  JobKind
	// After is the cursor: list jobs created strictly before the job with
	// this ID (lists run newest first).
	After JobID
	Limit int // default 50, at most 500
}
