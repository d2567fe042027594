// Package paired compares two evaluation runs on the items both scored:
// the score difference with a paired bootstrap confidence interval, and a
// significance test of that difference — McNemar's exact test when every
// item is pass/fail, a paired sign-flip permutation test otherwise.
//
// Pairing removes the between-item variance that an unpaired comparison of
// two accuracies would carry: on the same problems, most items are solved
// by both models or by neither, and only the items on which the two runs
// disagree carry information about which model is better.
//
// Sources: McNemar (1947), "Note on the sampling error of the difference
// between correlated proportions", Psychometrika 12(2); the exact
// (binomial) form as in Fagerland, Lydersen & Laake (2013), "The McNemar
// test for binary matched-pairs data: mid-p and asymptotic are better than
// exact conditional", BMC Med. Res. Methodol. 13:91; the percentile
// bootstrap from Efron & Tibshirani (1993), An Introduction to the
// Bootstrap, ch. 13; paired permutation tests for system comparison from
// Dror et al. (2018), "The Hitchhiker's Guide to Testing Statistical
// Significance in Natural Language Processing", ACL.
package paired

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/wmss/wmss"
)

// Pair is one item's score in run A and in run B, each in [0, 1]: 0 or 1
// for a single pass/fail sample, the fraction of correct samples (mean@n)
// otherwise.
type Pair struct {
	ID   string
	A, B float64
}

// DefaultResamples is the number of bootstrap and permutation resamples
// used when Options.Resamples is 0.
const DefaultResamples = 10000

// DefaultAlpha is the significance level used when Options.Alpha is 0.
const DefaultAlpha = 0.05

// Options configure Compare.
type Options struct {
	// Alpha is the two-sided significance level in (0, 1); the confidence
	// interval has level 1−Alpha. Default DefaultAlpha.
	Alpha float64
	// Resamples is the number of bootstrap (and permutation) resamples,
	// at least 100. Default DefaultResamples.
	Resamples int
	// Seed seeds the resampling; the same pairs, options and seed give
	// the same result.
	Seed uint64
}

func (o Options) withDefaults() (Options, error) {
	if o.Alpha == 0 {
		o.Alpha = DefaultAlpha
	}
	if !(o.Alpha > 0 && o.Alpha < 1) {
		return o, wmss.FieldErrorf("alpha", "want a level in (0, 1), got %v", o.Alpha)
	}
	if o.Resamples == 0 {
		o.Resamples = DefaultResamples
	}
	if o.Resamples < 100 {
		return o, wmss.FieldErrorf("resamples", "want ≥ 100, got %d", o.Resamples)
	}
	return o, nil
}

// Test names the significance test a Comparison used.
type Test string

// Tests.
const (
	// TestMcNemar is McNemar's exact test: two-sided binomial test of the
	// discordant pairs against p = 1/2 (every item pass/fail).
	TestMcNemar Test = "mcnemar_exact"
	// TestPermutation is a paired sign-flip permutation test of the mean
	// difference (some item scored in (0, 1), e.g. mean@n with n > 1).
	TestPermutation Test = "paired_permutation"
	// TestNone: no item in common, nothing was tested.
	TestNone Test = "none"
)

// Verdicts of a Comparison.
const (
	VerdictBetter    = "better"    // B significantly above A
	VerdictWorse     = "worse"     // B significantly below A
	VerdictNoChange  = "no_change" // the difference is within noise at Alpha
	VerdictNoOverlap = "no_overlap"
)

// Comparison is the paired comparison of runs A and B on their shared
// items. Delta is B − A, so a negative Delta is a drop from A to B.
type Comparison struct {
	N      int     `json:"n"`       // items scored in both runs
	ScoreA float64 `json:"score_a"` // mean item score of A on the shared items
	ScoreB float64 `json:"score_b"` // mean item score of B on the shared items
	Delta  float64 `json:"delta"`   // ScoreB − ScoreA
	// CILow and CIHigh bound the paired percentile bootstrap interval of
	// Delta at level 1−Alpha.
	CILow  float64 `json:"ci_low"`
	CIHigh float64 `json:"ci_high"`
	Level  float64 `json:"level"` // 1 − Alpha
	// Binary says every shared item was pass/fail in both runs.
	Binary bool `json:"binary"`
	// OnlyA counts items A passed and B failed, OnlyB the reverse (the
	// discordant pairs; for non-binary items, items where A or B scored
	// strictly higher).
	OnlyA int `json:"only_a"`
	OnlyB int `json:"only_b"`
	// PValue is the two-sided p-value of Test.
	PValue    float64 `json:"p_value"`
	Test      Test    `json:"test"`
	Alpha     float64 `json:"alpha"`
	Resamples int     `json:"resamples"`
	Seed      uint64  `json:"seed"`
	// Verdict is VerdictBetter or VerdictWorse when PValue < Alpha (by the
	// sign of Delta), else VerdictNoChange; VerdictNoOverlap when N = 0.
	Verdict string `json:"verdict"`
}

// Significant reports whether the difference is significant at Alpha.
func (c Comparison) Significant() bool {
	return c.Verdict == VerdictBetter || c.Verdict == VerdictWorse
}

// Compare compares the paired scores. Scores must lie in [0, 1]; an EINVALID
// error names the first bad pair. With no pairs it returns N = 0 and
// VerdictNoOverlap.
//
// Delta = mean(B_i − A_i). The confidence interval is the percentile
// bootstrap: draw N pair indices with replacement Resamples times, take
// each draw's mean difference, and return its α/2 and 1−α/2 quantiles
// (Efron & Tibshirani 1993, eq. 13.5). The p-value is McNemar's exact test
// (McNemarExact) when every item is pass/fail, else the sign-flip
// permutation p-value (1 + #{|mean(s_i·d_i)| ≥ |Delta|}) / (1 + Resamples)
// with independent signs s_i = ±1 (Dror et al. 2018, sec. 3).
func Compare(pairs []Pair, opts Options) (Comparison, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return Comparison{}, err
	}
	c := Comparison{N: len(pairs), Level: 1 - opts.Alpha, Alpha: opts.Alpha,
		Resamples: opts.Resamples, Seed: opts.Seed, Binary: true}
	if len(pairs) == 0 {
		c.Test, c.Verdict, c.PValue = TestNone, VerdictNoOverlap, 1
		return c, nil
	}
	d := make([]float64, len(pairs))
	var sumA, sumB float64
	for i, p := range pairs {
		for _, v := range [2]float64{p.A, p.B} {
			if !(v >= 0 && v <= 1) {
				return Comparison{}, wmss.FieldErrorf("items", "item %q: score %v is outside [0, 1]", p.ID, v)
			}
			if v != 0 && v != 1 {
				c.Binary = false
			}
		}
		sumA += p.A
		sumB += p.B
		d[i] = p.B - p.A
		switch {
		case p.A > p.B:
			c.OnlyA++
		case p.B > p.A:
			c.OnlyB++
		}
	}
	n := float64(len(pairs))
	c.ScoreA, c.ScoreB = sumA/n, sumB/n
	c.Delta = mean(d)
	rng := rand.New(rand.NewPCG(opts.Seed, 0x9e3779b97f4a7c15))
	c.CILow, c.CIHigh = bootstrapCI(d, opts.Resamples, opts.Alpha, rng)
	if c.Binary {
		c.Test, c.PValue = TestMcNemar, McNemarExact(c.OnlyA, c.OnlyB)
	} else {
		c.Test, c.PValue = TestPermutation, signFlipP(d, opts.Resamples, rng)
	}
	switch {
	case c.PValue < opts.Alpha && c.Delta < 0:
		c.Verdict = VerdictWorse
	case c.PValue < opts.Alpha && c.Delta > 0:
		c.Verdict = VerdictBetter
	default:
		c.Verdict = VerdictNoChange
	}
	return c, nil
}

func mean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// bootstrapCI returns the percentile interval of the mean of d over
// resamples draws with replacement.
func bootstrapCI(d []float64, resamples int, alpha float64, rng *rand.Rand) (lo, hi float64) {
	n := len(d)
	means := make([]float64, resamples)
	for r := range means {
		s := 0.0
		for range n {
			s += d[rng.IntN(n)]
		}
		means[r] = s / float64(n)
	}
	slices.Sort(means)
	return quantile(means, alpha/2), quantile(means, 1-alpha/2)
}

// quantile returns the q-quantile of sorted x by linear interpolation
// between order statistics (Hyndman & Fan 1996, definition 7, numpy's
// default).
func quantile(x []float64, q float64) float64 {
	h := q * float64(len(x)-1)
	i := int(math.Floor(h))
	if i >= len(x)-1 {
		return x[len(x)-1]
	}
	return x[i] + (h-float64(i))*(x[i+1]-x[i])
}

// signFlipP is the Monte Carlo paired permutation p-value of mean(d) = 0.
func signFlipP(d []float64, resamples int, rng *rand.Rand) float64 {
	obs := math.Abs(mean(d))
	// A small tolerance so that resamples equal to the observed mean up to
	// rounding count as "at least as extreme".
	tol := 1e-12 * max(1, obs)
	hits := 0
	n := float64(len(d))
	for range resamples {
		s := 0.0
		for _, v := range d {
			if rng.Uint64()&1 == 0 {
				s += v
			} else {
				s -= v
			}
		}
		if math.Abs(s/n) >= obs-tol {
			hits++
		}
	}
	return float64(1+hits) / float64(1+resamples)
}

// McNemarExact returns the two-sided p-value of McNemar's exact test for b
// pairs passed only by A and c passed only by B: under H0 each of the
// n = b + c discordant pairs is equally likely to go either way, so
// min(b, c) ~ Binomial(n, 1/2) and
//
//	p = min(1, 2 · Σ_{i=0}^{min(b,c)} C(n, i) / 2^n),
//
// with p = 1 when n = 0 (McNemar 1947; Fagerland et al. 2013, eq. 2). The
// sum is taken in log space (log C(n, i) from math.Lgamma), accurate to a
// relative 1e-10 for n up to 10^6. It panics on negative counts.
func McNemarExact(b, c int) float64 {
	if b < 0 || c < 0 {
		panic(fmt.Sprintf("paired: McNemarExact(%d, %d): negative count", b, c))
	}
	n := b + c
	if n == 0 {
		return 1
	}
	k := min(b, c)
	ln2n := float64(n) * math.Ln2
	lgN, _ := math.Lgamma(float64(n) + 1)
	// log-sum-exp over the terms log C(n,i) − n·ln 2, i = 0..k; the
	// largest term is the last (i ≤ n/2).
	terms := make([]float64, k+1)
	for i := 0; i <= k; i++ {
		a, _ := math.Lgamma(float64(i) + 1)
		bb, _ := math.Lgamma(float64(n-i) + 1)
		terms[i] = lgN - a - bb - ln2n
	}
	top := terms[k]
	s := 0.0
	for _, t := range terms {
		s += math.Exp(t - top)
	}
	p := 2 * math.Exp(top+math.Log(s))
	return min(1, p)
}
