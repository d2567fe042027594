package training

import (
	"fmt"

	"github.com/wmss/wmss"
)

// LengthPolicy says what happens to a sample longer than the maximum length.
// The values are stored in job specs: never rename one.
type LengthPolicy string

// Length policies.
const (
	// LengthTruncate keeps the first max_length tokens (the tail of the
	// completion is cut) and drops the sample only if no supervised token is
	// left (reason no_supervised_tokens). The default.
	LengthTruncate LengthPolicy = "truncate"
	// LengthDrop drops every sample longer than max_length (reason too_long).
	LengthDrop LengthPolicy = "drop"
)

// Valid reports whether p is a known policy.
func (p LengthPolicy) Valid() bool { return p == LengthTruncate || p == LengthDrop }

// SampleLength is the tokenized length of one sample, as the engine reports it.
type SampleLength struct {
	Tokens int // all tokens of the rendered sample
	// SupervisedInWindow counts the supervised (completion / assistant) tokens
	// among the first max_length tokens, i.e. those left after truncation.
	SupervisedInWindow int
}

// PromptCompletionLength returns the SampleLength of a prompt of
// promptTokens followed by a completion of completionTokens under
// maxLength: the supervised tokens in the window are
// max(0, min(prompt+completion, maxLength) − prompt).
func PromptCompletionLength(promptTokens, completionTokens, maxLength int) SampleLength {
	total := promptTokens + completionTokens
	return SampleLength{Tokens: total, SupervisedInWindow: max(0, min(total, maxLength)-promptTokens)}
}

// LengthReport is the outcome of ApplyMaxLength, for the job summary.
type LengthReport struct {
	Kept      []int     `json:"-"`         // indices into the samples that stay, in order
	Truncated int       `json:"truncated"` // kept samples cut to max_length
	Dropped   int       `json:"dropped"`   // samples removed
	Problems  []Problem `json:"problems"`  // one per dropped sample, naming its line
}

// ApplyMaxLength applies policy to samples whose lengths are lens
// (len(lens) == len(samples)) under maxLength tokens. A sample with no
// supervised token left is always dropped (no_supervised_tokens), so no
// batch is ever built whose loss is an empty mean (training case T24);
// under LengthDrop any sample over maxLength is dropped (too_long). Problems
// carry the sample's Line and file.
//
// Errors (EINVALID): maxLength < 1 ("max_length"), an unknown policy
// ("length_policy"), or len(lens) != len(samples) ("lengths").
func ApplyMaxLength(file string, samples []Sample, lens []SampleLength, maxLength int, policy LengthPolicy) (*LengthReport, error) {
	switch {
	case maxLength < 1:
		return nil, wmss.FieldErrorf("max_length", "must be ≥ 1, got %d", maxLength)
	case !policy.Valid():
		return nil, wmss.FieldErrorf("length_policy", "unknown policy %q (want truncate or drop)", policy)
	case len(lens) != len(samples):
		return nil, wmss.FieldErrorf("lengths", "%d lengths for %d samples", len(lens), len(samples))
	}
	r := &LengthReport{Kept: make([]int, 0, len(samples))}
	drop := func(i int, reason, detail string) {
		r.Dropped++
		r.Problems = append(r.Problems, Problem{File: file, Line: samples[i].Line, Reason: reason, Detail: detail})
	}
	for i, l := range lens {
		switch {
		case l.Tokens > maxLength && policy == LengthDrop:
			drop(i, ReasonTooLong, fmt.Sprintf("%d tokens > max_length %d", l.Tokens, maxLength))
		case l.SupervisedInWindow <= 0:
			drop(i, ReasonNoSupervisedTokens, fmt.Sprintf("no completion token within max_length %d (sample has %d tokens)", maxLength, l.Tokens))
		default:
			if l.Tokens > maxLength {
				r.Truncated++
			}
			r.Kept = append(r.Kept, i)
		}
	}
	return r, nil
}
