package training

import (
	"encoding/json"

	"github.com/wmss/wmss"
)

// Summary is the job summary the pipeline stores when a job ends (and, as
// far as it got, when it fails): data counts, one entry per phase, the
// selection statistics of every round, and where the final model is.
type Summary struct {
	Kind JobKind     `json:"kind"`
	Data DataSummary `json:"data"`
	// Corpus describes the pretraining corpus, when there is one.
	Corpus *CorpusSummary `json:"corpus,omitempty"`
	// Phases lists the training and selection phases in run order.
	Phases    []PhaseSummary     `json:"phases"`
	Selection []SelectionSummary `json:"selection,omitempty"` // one per round
	// TokensProcessed sums the supervised tokens of every optimizer step
	// that ran (steps replayed after a resume count once).
	TokensProcessed int64  `json:"tokens_processed"`
	Model           string `json:"model,omitempty"` // the extracted model, relative to the data directory
	Resumes         int    `json:"resumes"`         // times the job continued from a checkpoint
}

// DataSummary counts what happened to the training set's rows.
type DataSummary struct {
	File string `json:"file"`
	Read int    `json:"read"` // samples the reader returned (after data.limit)
	// Skipped are rows with structural problems skipped under skip_invalid.
	Skipped int `json:"skipped"`
	// Dropped counts rows removed, by reason (empty_completion,
	// no_assistant_turn, no_supervised_tokens, too_long, …) at reading and
	// after tokenization under the length policy.
	Dropped   map[string]int `json:"dropped"`
	Truncated int            `json:"truncated"` // kept samples cut to max_length
	Kept      int            `json:"kept"`      // samples the job trains on
	// SupervisedTokens is the number of supervised targets of the kept samples.
	SupervisedTokens int `json:"supervised_tokens"`
	// Problems lists up to 100 dropped or skipped rows with line and reason.
	Problems []Problem `json:"problems,omitempty"`
}

// CorpusSummary describes the tokenized pretraining corpus.
type CorpusSummary struct {
	File   string `json:"file"`
	Tokens int    `json:"tokens"`
	Blocks int    `json:"blocks"` // samples of max_length tokens
}

// PhaseSummary is one phase of a job.
type PhaseSummary struct {
	Name  string `json:"name"` // metric phase: pretrain, sft, select, joint (joint.2, select.2 for later rounds)
	Round int    `json:"round,omitempty"`
	// Steps is the number of optimizer steps the phase took, of
	// TotalSteps planned; SkippedSteps of them had no supervised token.
	Steps        int   `json:"steps"`
	TotalSteps   int   `json:"total_steps"`
	SkippedSteps int   `json:"skipped_steps"`
	Tokens       int64 `json:"tokens"` // supervised tokens trained on
	// Seconds is the wall time spent in the phase, summed over resumes.
	Seconds   float64  `json:"seconds"`
	FinalLoss *float64 `json:"final_loss,omitempty"` // loss of the last step that ran, nats/token
	// HeldoutLoss is the held-out loss (nats/token) of the phase's model, when
	// the runner has a held-out set.
	HeldoutLoss *float64 `json:"heldout_loss,omitempty"`
	Done        bool     `json:"done"`
}

// SummaryOf decodes the summary a training job stored; nil when it has
// none or it is not a training summary.
func SummaryOf(j *wmss.Job) *Summary {
	var s Summary
	if j == nil || len(j.Summary) == 0 || json.Unmarshal(j.Summary, &s) != nil {
		return nil
	}
	return &s
}

// Phase returns the summary of the named phase ("pretrain", "sft",
// "joint", …), nil when s is nil or has no such phase.
func (s *Summary) Phase(name string) *PhaseSummary {
	if s == nil {
		return nil
	}
	for i := range s.Phases {
		if s.Phases[i].Name == name {
			return &s.Phases[i]
		}
	}
	return nil
}

// HeldoutLoss returns the held-out loss (nats/token) of the named phase's
// model, nil when unknown.
func (s *Summary) HeldoutLoss(phase string) *float64 {
	if p := s.Phase(phase); p != nil {
		return p.HeldoutLoss
	}
	return nil
}
