package training

import (
	"fmt"
	"math"
	"strconv"

	"github.com/wmss/wmss"
)

// Formula names a sampling-weight formula (wmss-method.md, "Sampling
// weights: two published versions"). The string values are stored in job
// specs and records: never rename one.
type Formula string

// The two published sampling-weight formulas.
const (
	// FormulaOfficial is what the authors' code runs, and the default:
	// p_i = α·H_w,i/Z1 + β·[−ΔH_i]_+/Z2 + γ·[ΔH_i]_+/Z3.
	FormulaOfficial Formula = "official"
	// FormulaPaperV2 is paper v2's p_i ∝ α·[−ΔH_i]_+ + β·H_s,i + γ·[ΔH_i]_+.
	FormulaPaperV2 Formula = "paper_v2"
)

// Valid reports whether f is one of the known formulas.
func (f Formula) Valid() bool { return f == FormulaOfficial || f == FormulaPaperV2 }

// Coefficients are the α, β, γ of the sampling-weight formulas. Their meaning
// depends on the formula: in official, α weights weak entropy (base
// difficulty), β consolidation (entropy fell) and γ regression repair
// (entropy rose); in paper_v2, α weights consolidation, β strong entropy and
// γ regression repair.
type Coefficients struct {
	Alpha float64 `json:"alpha"`
	Beta  float64 `json:"beta"`
	Gamma float64 `json:"gamma"`
}

// DefaultCoefficients returns α, β, γ = 0.1, 0.8, 0.1, used by both formulas
// in the paper and the authors' code.
func DefaultCoefficients() Coefficients { return Coefficients{Alpha: 0.1, Beta: 0.8, Gamma: 0.1} }

// zeroNormaliser replaces a normaliser Z that sums to exactly 0, as the
// authors' code does, so that an all-zero term contributes 0 instead of NaN.
const zeroNormaliser = 1e-12

// SampleEntropy is the teacher-forced entropy of one training sample under
// the weak and the strong model: the mean over the sample's supervised
// (completion) positions of −Σ_v P(v) log P(v), in nats per token
// (wmss-method.md, "Notation"). Missing marks a sample whose entropy could not
// be computed (for example, no supervised token survived truncation); such a
// sample gets weight 0.
type SampleEntropy struct {
	Weak    float64 `json:"weak"`
	Strong  float64 `json:"strong"`
	Missing bool    `json:"missing,omitempty"`
}

// Delta returns ΔH = H(strong) − H(weak).
func (e SampleEntropy) Delta() float64 { return e.Strong - e.Weak }

// Weights returns the sampling weights p (len(p) == len(ent)) of the given
// formula, non-negative and summing to 1.
//
// Rules shared by both formulas (wmss-method.md, "Sampling weights"):
// samples marked Missing get weight 0 and are left out of every sum; a
// normaliser that sums to 0 becomes 1e-12; raw weights are clipped at 0 and
// renormalised; if every weight is 0, the weights are uniform over the
// samples that have an entropy (over all samples if none has one).
//
// Errors (all EINVALID): an unknown formula; a negative or non-finite
// coefficient; a NaN or infinite entropy, named by its sample index
// ("entropies[3].weak"), so that a numerical fault fails the job instead of
// reaching the weights (training case T27). An empty ent returns an empty p.
func Weights(f Formula, ent []SampleEntropy, c Coefficients) ([]float64, error) {
	if !f.Valid() {
		return nil, wmss.FieldErrorf("formula", "unknown formula %q (want %q or %q)", f, FormulaOfficial, FormulaPaperV2)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	for i, e := range ent {
		if e.Missing {
			continue
		}
		if !finite(e.Weak) {
			return nil, wmss.FieldErrorf(fmt.Sprintf("entropies[%d].weak", i), "sample %d has non-finite weak entropy %v", i, e.Weak)
		}
		if !finite(e.Strong) {
			return nil, wmss.FieldErrorf(fmt.Sprintf("entropies[%d].strong", i), "sample %d has non-finite strong entropy %v", i, e.Strong)
		}
	}

	p := make([]float64, len(ent))
	switch f {
	case FormulaOfficial:
		official(p, ent, c)
	case FormulaPaperV2:
		paperV2(p, ent, c)
	}

	// Clip at 0 and renormalise; all-zero falls back to uniform.
	var sum float64
	for i := range p {
		if p[i] < 0 || ent[i].Missing {
			p[i] = 0
		}
		sum += p[i]
	}
	if sum > 0 {
		for i := range p {
			p[i] /= sum
		}
		return p, nil
	}
	return uniform(p, ent), nil
}

// official fills p with α·H_w/Z1 + β·[−ΔH]_+/Z2 + γ·[ΔH]_+/Z3 where
// Z1 = Σ H_w, Z2 = Σ [−ΔH]_+, Z3 = Σ [ΔH]_+ over the samples with an entropy.
func official(p []float64, ent []SampleEntropy, c Coefficients) {
	var z1, z2, z3 float64
	for _, e := range ent {
		if e.Missing {
			continue
		}
		d := e.Delta()
		z1 += e.Weak
		z2 += pos(-d)
		z3 += pos(d)
	}
	z1, z2, z3 = nonZero(z1), nonZero(z2), nonZero(z3)
	for i, e := range ent {
		if e.Missing {
			continue
		}
		d := e.Delta()
		// The float64 conversions forbid fused multiply-add (Go spec,
		// "Arithmetic operators"), so arm64 computes the same bits as amd64
		// and a seed selects the same samples everywhere.
		p[i] = float64(c.Alpha*e.Weak/z1) + float64(c.Beta*pos(-d)/z2) + float64(c.Gamma*pos(d)/z3)
	}
}

// paperV2 fills p with α·[−ΔH]_+ + β·H_s + γ·[ΔH]_+ (normalised by the caller).
func paperV2(p []float64, ent []SampleEntropy, c Coefficients) {
	for i, e := range ent {
		if e.Missing {
			continue
		}
		d := e.Delta()
		p[i] = float64(c.Alpha*pos(-d)) + float64(c.Beta*e.Strong) + float64(c.Gamma*pos(d)) // no FMA, see official
	}
}

// uniform sets p to 1/n over the n samples with an entropy, or over all
// samples when none has one.
func uniform(p []float64, ent []SampleEntropy) []float64 {
	n := 0
	for _, e := range ent {
		if !e.Missing {
			n++
		}
	}
	for i, e := range ent {
		switch {
		case n == 0:
			p[i] = 1 / float64(len(p))
		case e.Missing:
			p[i] = 0
		default:
			p[i] = 1 / float64(n)
		}
	}
	return p
}

func pos(x float64) float64 { return math.Max(x, 0) }

func nonZero(z float64) float64 {
	if z == 0 {
		return zeroNormaliser
	}
	return z
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// validate checks that α, β, γ are finite and ≥ 0; the error names the
// coefficient ("alpha", "beta" or "gamma").
func (c Coefficients) validate() error {
	for _, k := range []struct {
		name string
		v    float64
	}{{"alpha", c.Alpha}, {"beta", c.Beta}, {"gamma", c.Gamma}} {
		if !finite(k.v) || k.v < 0 {
			return wmss.FieldErrorf(k.name, "must be a finite number ≥ 0, got %v", k.v)
		}
	}
	return nil
}

// String returns the formula's name.
func (f Formula) String() string { return string(f) }

func itoa(i int) string { return strconv.Itoa(i) }
