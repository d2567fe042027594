// Package passk estimates pass@k and mean@n from per-problem sample counts.
//
// For one problem with n generated samples of which c are correct, the
// unbiased estimator of pass@k (Chen et al. 2021, "Evaluating Large Language
// Models Trained on Code", arXiv 2107.03374, eq. 1) is
//
//	pass@k = 1 − C(n−c, k) / C(n, k)
//
// and the benchmark score is its mean over problems. It must be computed per
// problem from (n, c): pooling all samples of a benchmark, or treating each
// problem's single greedy sample as one of n "samples" of the benchmark,
// gives a wrong, inflated number (scoring case B43).
package passk

import (
	"strconv"

	"github.com/wmss/wmss"
)

// Problem is the outcome of sampling one problem: N samples were generated
// and C of them were correct (0 ≤ C ≤ N).
type Problem struct {
	N int // samples generated
	C int // samples judged correct
}

// Estimate returns the unbiased pass@k estimate for one problem with n
// samples of which c are correct: 1 − C(n−c,k)/C(n,k) (arXiv 2107.03374,
// eq. 1). It uses the product form
//
//	C(n−c,k)/C(n,k) = ∏_{i=n−c+1}^{n} (1 − k/i)
//
// which stays in [0, 1] without large binomials. It returns an EINVALID
// error when k < 1, n < 1, c is outside [0, n], or k > n: with fewer than k
// samples pass@k is not defined, and it is never reported as 1.0 (scoring
// case B41).
func Estimate(n, c, k int) (float64, error) {
	if err := check(n, c, k); err != nil {
		return 0, err
	}
	// With fewer than k wrong samples, every k-subset holds a correct one.
	if n-c < k {
		return 1, nil
	}
	prod := 1.0
	for i := n - c + 1; i <= n; i++ {
		prod *= 1 - float64(k)/float64(i)
	}
	return 1 - prod, nil
}

func check(n, c, k int) error {
	switch {
	case n < 1:
		return wmss.FieldErrorf("n", "need at least 1 sample, got %d", n)
	case c < 0 || c > n:
		return wmss.FieldErrorf("c", "correct count %d outside [0, n=%d]", c, n)
	case k < 1:
		return wmss.FieldErrorf("k", "k must be ≥ 1, got %d", k)
	case k > n:
		return wmss.FieldErrorf("k", "pass@%d needs at least %d samples per problem, got n=%d", k, k, n)
	}
	return nil
}

// PassAtK returns pass@k averaged over problems, each estimated from its own
// (N, C) by Estimate. It returns an EINVALID error naming the problem's index
// when any problem has k > N or bad counts, and when problems is empty; the
// caller should then omit pass@k rather than report a number (B41, B43).
func PassAtK(problems []Problem, k int) (float64, error) {
	if len(problems) == 0 {
		return 0, wmss.FieldErrorf("problems", "no problems to score")
	}
	sum := 0.0
	for i, p := range problems {
		v, err := Estimate(p.N, p.C, k)
		if err != nil {
			e := err.(*wmss.Error)
			return 0, wmss.FieldErrorf("problems["+strconv.Itoa(i)+"]."+e.Field, "%s", e.Message)
		}
		sum += v
	}
	return sum / float64(len(problems)), nil
}

// MeanAtN returns mean@n: the fraction of correct samples per problem
// (C/N), averaged over problems. Every problem must have the same N ≥ 1, so
// that the metric's n is well defined; otherwise it returns an EINVALID
// error naming the first problem that differs.
func MeanAtN(problems []Problem) (float64, error) {
	if len(problems) == 0 {
		return 0, wmss.FieldErrorf("problems", "no problems to score")
	}
	n := problems[0].N
	sum := 0.0
	for i, p := range problems {
		if p.N != n {
			return 0, wmss.FieldErrorf("problems["+strconv.Itoa(i)+"].n", "mean@n needs the same n for every problem: got %d, first problem has %d", p.N, n)
		}
		if err := check(p.N, p.C, 1); err != nil {
			e := err.(*wmss.Error)
			return 0, wmss.FieldErrorf("problems["+strconv.Itoa(i)+"]."+e.Field, "%s", e.Message)
		}
		sum += float64(p.C) / float64(p.N)
	}
	return sum / float64(len(problems)), nil
}

// PassAtKScored averages pass@k over the problems with at least k scored
// samples; problems with fewer (their other samples were grader or sandbox
// errors) are left out rather than estimated. ok is false when no problem
// qualifies.
func PassAtKScored(problems []Problem, k int) (v float64, ok bool, err error) {
	var eligible []Problem
	for _, p := range problems {
		if p.N >= k {
			eligible = append(eligible, p)
		}
	}
	if len(eligible) == 0 {
		return 0, false, nil
	}
	v, err = PassAtK(eligible, k)
	return v, err == nil, err
}
