package passk_test

import (
	"math"
	"math/big"
	"testing"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/evaluators/passk"
)

// direct computes 1 − C(n−c,k)/C(n,k) with exact big-integer binomials, the
// textbook form that Estimate's product form must match.
func direct(n, c, k int) float64 {
	num := new(big.Int).Binomial(int64(n-c), int64(k)) // 0 when n−c < k
	den := new(big.Int).Binomial(int64(n), int64(k))
	r := new(big.Rat).SetFrac(num, den)
	f, _ := new(big.Rat).Sub(big.NewRat(1, 1), r).Float64()
	return f
}

func TestEstimateMatchesBinomial(t *testing.T) {
	for n := 1; n <= 60; n++ {
		for c := 0; c <= n; c++ {
			for _, k := range []int{1, 2, 3, 5, 10, 25, 50} {
				if k > n {
					continue
				}
				got, err := passk.Estimate(n, c, k)
				if err != nil {
					t.Fatalf("Estimate(%d,%d,%d): %v", n, c, k, err)
				}
				want := direct(n, c, k)
				if math.Abs(got-want) > 1e-12 {
					t.Fatalf("Estimate(%d,%d,%d) = %.15g, binomial form %.15g", n, c, k, got, want)
				}
			}
		}
	}
}

func TestEstimateLargeN(t *testing.T) {
	// n = 1000 makes C(n,k) overflow float64 for k ≥ ~500; the product form
	// must still agree with the exact value.
	for _, tc := range []struct{ n, c, k int }{{1000, 3, 100}, {1000, 1, 500}, {1000, 0, 999}, {1000, 999, 1000}} {
		got, err := passk.Estimate(tc.n, tc.c, tc.k)
		if err != nil {
			t.Fatal(err)
		}
		if want := direct(tc.n, tc.c, tc.k); math.Abs(got-want) > 1e-9 {
			t.Errorf("Estimate(%d,%d,%d) = %.12g, want %.12g", tc.n, tc.c, tc.k, got, want)
		}
	}
}

func TestEstimateKnownValues(t *testing.T) {
	for _, tc := range []struct {
		n, c, k int
		want    float64
	}{
		{10, 4, 1, 0.4},         // pass@1 = c/n
		{10, 0, 5, 0},           // nothing correct
		{10, 10, 5, 1},          // everything correct
		{10, 6, 5, 1},           // fewer than k wrong samples
		{10, 4, 5, 1 - 6.0/252}, // 1 − C(6,5)/C(10,5)
		{5, 1, 2, 1 - 6.0/10},   // 1 − C(4,2)/C(5,2)
		{200, 20, 10, direct(200, 20, 10)},
	} {
		got, err := passk.Estimate(tc.n, tc.c, tc.k)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Estimate(%d,%d,%d) = %v, want %v", tc.n, tc.c, tc.k, got, tc.want)
		}
	}
}

func TestEstimateErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n, c, k int
		field   string
	}{
		// B41: n=2, c=0, k=5 used to give 1.0; it must be an error.
		{"B41", 2, 0, 5, "k"},
		{"KZero", 5, 1, 0, "k"},
		{"NZero", 0, 0, 1, "n"},
		{"CNegative", 5, -1, 1, "c"},
		{"CAboveN", 5, 6, 1, "c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := passk.Estimate(tc.n, tc.c, tc.k)
			if err == nil {
				t.Fatalf("Estimate(%d,%d,%d) = %v, want error", tc.n, tc.c, tc.k, got)
			}
			var e *wmss.Error
			if !asError(err, &e) || e.Code != wmss.EINVALID || e.Field != tc.field {
				t.Errorf("error %v, want EINVALID on field %q", err, tc.field)
			}
		})
	}
}

func asError(err error, target **wmss.Error) bool {
	e, ok := err.(*wmss.Error)
	*target = e
	return ok
}

func TestPassAtK(t *testing.T) {
	t.Run("B43", func(t *testing.T) {
		// 10 problems, one greedy sample each, 4 solved.
		ps := make([]passk.Problem, 10)
		for i := range ps {
			ps[i] = passk.Problem{N: 1, C: 0}
			if i < 4 {
				ps[i].C = 1
			}
		}
		p1, err := passk.PassAtK(ps, 1)
		if err != nil || math.Abs(p1-0.4) > 1e-15 {
			t.Errorf("pass@1 = %v, %v; want 0.4", p1, err)
		}
		p5, err := passk.PassAtK(ps, 5)
		if err == nil {
			t.Errorf("pass@5 = %v with n=1 per problem; want an error (not reported)", p5)
		} else if wmss.ErrorCode(err) != wmss.EINVALID {
			t.Errorf("pass@5 error code %q, want %q", wmss.ErrorCode(err), wmss.EINVALID)
		}
	})
	t.Run("MeanOfPerProblem", func(t *testing.T) {
		ps := []passk.Problem{{N: 10, C: 0}, {N: 10, C: 3}, {N: 10, C: 10}, {N: 5, C: 1}}
		want := (0 + direct(10, 3, 2) + 1 + direct(5, 1, 2)) / 4
		got, err := passk.PassAtK(ps, 2)
		if err != nil || math.Abs(got-want) > 1e-12 {
			t.Errorf("PassAtK = %v, %v; want %v", got, err, want)
		}
	})
	t.Run("ErrNamesProblem", func(t *testing.T) {
		_, err := passk.PassAtK([]passk.Problem{{N: 10, C: 1}, {N: 3, C: 1}}, 5)
		var e *wmss.Error
		if !asError(err, &e) || e.Field != "problems[1].k" {
			t.Errorf("error %v, want field problems[1].k", err)
		}
	})
	t.Run("ErrEmpty", func(t *testing.T) {
		if _, err := passk.PassAtK(nil, 1); wmss.ErrorCode(err) != wmss.EINVALID {
			t.Errorf("PassAtK(nil) error %v, want EINVALID", err)
		}
	})
}

func TestMeanAtN(t *testing.T) {
	got, err := passk.MeanAtN([]passk.Problem{{N: 4, C: 1}, {N: 4, C: 4}, {N: 4, C: 0}})
	if want := (0.25 + 1 + 0) / 3; err != nil || math.Abs(got-want) > 1e-15 {
		t.Errorf("MeanAtN = %v, %v; want %v", got, err, want)
	}
	_, err = passk.MeanAtN([]passk.Problem{{N: 4, C: 1}, {N: 3, C: 1}})
	var e *wmss.Error
	if !asError(err, &e) || e.Field != "problems[1].n" {
		t.Errorf("MeanAtN mixed n: error %v, want field problems[1].n", err)
	}
}

func TestPassAtKScored(t *testing.T) {
	// Only the first problem has 2 scored samples: 1 − C(2,2)/C(3,2) = 2/3.
	v, ok, err := passk.PassAtKScored([]passk.Problem{{N: 3, C: 1}, {N: 1, C: 1}}, 2)
	if err != nil || !ok || math.Abs(v-2.0/3) > 1e-15 {
		t.Errorf("PassAtKScored = %v, %v, %v; want 2/3", v, ok, err)
	}
	if _, ok, err := passk.PassAtKScored([]passk.Problem{{N: 1, C: 1}}, 2); ok || err != nil {
		t.Errorf("no problem with 2 samples: ok = %v, err = %v; want false, nil", ok, err)
	}
}
