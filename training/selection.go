package training

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/wmss/wmss"
)

// SelectionOptions are the phase-2 settings (wmss-method.md, "Pipeline" step 2
// and "Options and their defaults").
type SelectionOptions struct {
	Formula      Formula
	Coefficients Coefficients
	Resample     ResampleOptions
}

// Selection is the outcome of phase 2: the sampling weight of every sample and
// the drawn indices that phase 3 trains on.
type Selection struct {
	Entropies []SampleEntropy // per sample, as given to Select
	Weights   []float64       // p, len(Entropies), Σ = 1
	Indices   []int           // drawn sample indices in draw order
	Summary   SelectionSummary
}

// SelectionSummary holds the statistics of one selection, for the job summary.
type SelectionSummary struct {
	Formula        Formula      `json:"formula"`
	Coefficients   Coefficients `json:"coefficients"`
	Multiplier     float64      `json:"multiplier"`
	Seed           uint64       `json:"seed"`
	DropDuplicates bool         `json:"drop_duplicates"`

	Samples int `json:"samples"` // |D|
	Missing int `json:"missing"` // samples without an entropy (weight 0)
	// Samples whose entropy fell (ΔH < 0), rose (ΔH > 0) or stayed equal.
	DeltaNegative int `json:"delta_negative"`
	DeltaPositive int `json:"delta_positive"`
	DeltaZero     int `json:"delta_zero"`
	// Means over the samples with an entropy, in nats per token; 0 if none.
	MeanWeakEntropy   float64 `json:"mean_weak_entropy"`
	MeanStrongEntropy float64 `json:"mean_strong_entropy"`
	MeanDeltaEntropy  float64 `json:"mean_delta_entropy"`
	// EffectiveSampleSize is Kish's 1/Σp², in samples: |D| for uniform
	// weights, 1 when all the mass is on one sample.
	EffectiveSampleSize float64 `json:"effective_sample_size"`
	Drawn               int     `json:"drawn"`  // len(Indices)
	Unique              int     `json:"unique"` // distinct drawn indices
	// UniqueFraction is Unique/|D|, the share of the data set phase 3 sees
	// (about 0.56 in paper v2 with drop-duplicates); 0 for an empty set.
	UniqueFraction float64 `json:"unique_fraction"`
}

// Select computes the sampling weights of ent and draws the phase-3 indices.
// Errors are those of Weights and Resample (EINVALID, naming the field).
func Select(ent []SampleEntropy, o SelectionOptions) (*Selection, error) {
	p, err := Weights(o.Formula, ent, o.Coefficients)
	if err != nil {
		return nil, err
	}
	idx, err := Resample(p, o.Resample)
	if err != nil {
		return nil, err
	}
	s := &Selection{Entropies: ent, Weights: p, Indices: idx}
	s.Summary = summarize(ent, p, idx, o)
	return s, nil
}

func summarize(ent []SampleEntropy, p []float64, idx []int, o SelectionOptions) SelectionSummary {
	s := SelectionSummary{
		Formula: o.Formula, Coefficients: o.Coefficients,
		Multiplier: o.Resample.Multiplier, Seed: o.Resample.Seed, DropDuplicates: o.Resample.DropDuplicates,
		Samples: len(ent), Drawn: len(idx),
	}
	var sw, ss, sq float64
	for i, e := range ent {
		sq += p[i] * p[i]
		if e.Missing {
			s.Missing++
			continue
		}
		switch d := e.Delta(); {
		case d < 0:
			s.DeltaNegative++
		case d > 0:
			s.DeltaPositive++
		default:
			s.DeltaZero++
		}
		sw += e.Weak
		ss += e.Strong
	}
	if n := len(ent) - s.Missing; n > 0 {
		s.MeanWeakEntropy = sw / float64(n)
		s.MeanStrongEntropy = ss / float64(n)
		s.MeanDeltaEntropy = (ss - sw) / float64(n)
	}
	if sq > 0 {
		s.EffectiveSampleSize = 1 / sq
	}
	seen := make(map[int]bool, len(idx))
	for _, i := range idx {
		seen[i] = true
	}
	s.Unique = len(seen)
	if len(ent) > 0 {
		s.UniqueFraction = float64(s.Unique) / float64(len(ent))
	}
	return s
}

// SelectionRecord is one line of the selection artifact (JSONL), one per
// sample in data-set order. Entropies are in nats per supervised token; they
// are null for a sample without an entropy.
type SelectionRecord struct {
	Index         int      `json:"index"`
	WeakEntropy   *float64 `json:"weak_entropy"`
	StrongEntropy *float64 `json:"strong_entropy"`
	DeltaEntropy  *float64 `json:"delta_entropy"` // strong − weak
	Weight        float64  `json:"weight"`
	Draws         int      `json:"draws"` // times the sample was drawn
}

// Records returns one SelectionRecord per sample.
func (s *Selection) Records() []SelectionRecord {
	draws := make([]int, len(s.Entropies))
	for _, i := range s.Indices {
		draws[i]++
	}
	out := make([]SelectionRecord, len(s.Entropies))
	for i, e := range s.Entropies {
		r := SelectionRecord{Index: i, Weight: s.Weights[i], Draws: draws[i]}
		if !e.Missing {
			w, st, d := e.Weak, e.Strong, e.Delta()
			r.WeakEntropy, r.StrongEntropy, r.DeltaEntropy = &w, &st, &d
		}
		out[i] = r
	}
	return out
}

// WriteJSONL writes Records to w, one JSON object per line.
func (s *Selection) WriteJSONL(w io.Writer) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, r := range s.Records() {
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("write selection record %d: %w", r.Index, err)
		}
	}
	return bw.Flush()
}

// ReadSelectionJSONL reads records written by WriteJSONL. It fails with an
// EINVALID error naming the line of the first malformed record.
func ReadSelectionJSONL(r io.Reader) ([]SelectionRecord, error) {
	var out []SelectionRecord
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for line := 1; sc.Scan(); line++ {
		var rec SelectionRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, wmss.FieldErrorf(fmt.Sprintf("line %d", line), "invalid selection record: %v", err)
		}
		out = append(out, rec)
	}
	return out, sc.Err()
}
