package paired_test

import (
	"fmt"
	"math"
	"math/big"
	"reflect"
	"testing"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/evaluators/paired"
)

// binaryRuns returns n pass/fail pairs where A passes the first passA items,
// B equals A except that the first down of A's passes fail in B and the
// first up of A's failures pass in B.
func binaryRuns(n, passA, down, up int) []paired.Pair {
	ps := make([]paired.Pair, n)
	for i := range ps {
		ps[i].ID = fmt.Sprintf("item/%d", i)
		if i < passA {
			ps[i].A = 1
			ps[i].B = 1
			if i < down {
				ps[i].B = 0
			}
		} else if i-passA < up {
			ps[i].B = 1
		}
	}
	return ps
}

// mcnemarBig is McNemar's exact two-sided p-value in exact rational
// arithmetic: min(1, 2·Σ_{i≤min(b,c)} C(b+c, i) / 2^(b+c)).
func mcnemarBig(b, c int) float64 {
	n := int64(b + c)
	if n == 0 {
		return 1
	}
	sum, term := new(big.Int), big.NewInt(1) // term = C(n, i)
	for i := int64(0); i <= int64(min(b, c)); i++ {
		sum.Add(sum, term)
		term.Mul(term, big.NewInt(n-i))
		term.Quo(term, big.NewInt(i+1))
	}
	r := new(big.Rat).SetFrac(new(big.Int).Lsh(sum, 1), new(big.Int).Lsh(big.NewInt(1), uint(n)))
	if r.Cmp(big.NewRat(1, 1)) > 0 {
		return 1
	}
	f, _ := r.Float64()
	return f
}

func TestMcNemarExact(t *testing.T) {
	// Python values from
	//   /usr/bin/python3 -c 'from math import comb; from fractions import Fraction as F
	//   p=lambda b,c: min(F(1), 2*F(sum(comb(b+c,i) for i in range(min(b,c)+1)), 2**(b+c)))
	//   print(float(p(30,0)))'  (and so on for each row)
	for _, tc := range []struct {
		b, c   int
		python float64
	}{
		{30, 0, 1.862645149230957e-09},
		{3, 3, 1.0},
		{30, 15, 0.035697803555194696},
		{12, 4, 0.076812744140625},
		{100, 70, 0.02584438758134169},
		{1000, 900, 0.02310884510890107},
		{5, 0, 0.0625},
		{6, 0, 0.03125},
		{0, 0, 1},
	} {
		got := paired.McNemarExact(tc.b, tc.c)
		if math.Abs(got-tc.python) > 1e-10*tc.python {
			t.Errorf("McNemarExact(%d, %d) = %.17g, want %.17g (Python)", tc.b, tc.c, got, tc.python)
		}
		if exact := mcnemarBig(tc.b, tc.c); math.Abs(got-exact) > 1e-10*exact {
			t.Errorf("McNemarExact(%d, %d) = %.17g, want %.17g (math/big)", tc.b, tc.c, got, exact)
		}
		if sym := paired.McNemarExact(tc.c, tc.b); sym != got {
			t.Errorf("McNemarExact not symmetric: (%d,%d) = %v, (%d,%d) = %v", tc.b, tc.c, got, tc.c, tc.b, sym)
		}
	}
	// A wider sweep against exact arithmetic, including large n.
	for _, n := range []int{1, 2, 7, 40, 201, 1319, 5000} {
		for _, k := range []int{0, n / 3, n / 2} {
			got, want := paired.McNemarExact(k, n-k), mcnemarBig(k, n-k)
			if want < 1e-300 {
				continue // below float64's range; both round to 0
			}
			if math.Abs(got-want) > 1e-9*want {
				t.Errorf("McNemarExact(%d, %d) = %.17g, want %.17g", k, n-k, got, want)
			}
		}
	}
}

func TestCompare_Identical(t *testing.T) {
	ps := binaryRuns(200, 120, 0, 0)
	c, err := paired.Compare(ps, paired.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if c.N != 200 || c.ScoreA != 0.6 || c.ScoreB != 0.6 || c.Delta != 0 || c.CILow != 0 || c.CIHigh != 0 ||
		c.OnlyA != 0 || c.OnlyB != 0 || c.PValue != 1 || !c.Binary || c.Test != paired.TestMcNemar ||
		c.Verdict != paired.VerdictNoChange || c.Significant() {
		t.Errorf("identical runs: %+v", c)
	}
}

func TestCompare_ThirtyFlipsDown(t *testing.T) {
	ps := binaryRuns(200, 120, 30, 0)
	c, err := paired.Compare(ps, paired.Options{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if c.OnlyA != 30 || c.OnlyB != 0 || c.ScoreA != 0.6 || c.ScoreB != 0.45 || math.Abs(c.Delta+0.15) > 1e-12 {
		t.Fatalf("counts: %+v", c)
	}
	// 2 / 2^30, from Python above and in exact arithmetic.
	if want := 1.862645149230957e-09; math.Abs(c.PValue-want) > 1e-10*want {
		t.Errorf("p = %.17g, want %.17g", c.PValue, want)
	}
	if c.Verdict != paired.VerdictWorse || !c.Significant() {
		t.Errorf("verdict = %q, want worse", c.Verdict)
	}
	// The bootstrap interval against the normal approximation: d_i = −1
	// on 30 items, 0 on 170, so sd(d) = sqrt(0.15 − 0.15²) and the 95%
	// interval is −0.15 ± 1.95996·sd/√200 = [−0.1995, −0.1005]. The
	// percentile interval moves in steps of 1/200.
	half := 1.959964 * math.Sqrt((0.15-0.15*0.15)/200)
	if math.Abs(c.CILow-(-0.15-half)) > 0.01 || math.Abs(c.CIHigh-(-0.15+half)) > 0.01 || c.CIHigh >= 0 {
		t.Errorf("CI = [%v, %v], want about [%v, %v]", c.CILow, c.CIHigh, -0.15-half, -0.15+half)
	}
	// The same flips upwards are significantly better.
	up, err := paired.Compare(binaryRuns(200, 120, 0, 30), paired.Options{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if up.Verdict != paired.VerdictBetter || up.OnlyB != 30 || up.PValue != c.PValue || up.CILow <= 0 {
		t.Errorf("30 flips up: %+v", up)
	}
}

func TestCompare_ThreeFlipsEachWay(t *testing.T) {
	c, err := paired.Compare(binaryRuns(200, 120, 3, 3), paired.Options{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if c.OnlyA != 3 || c.OnlyB != 3 || c.Delta != 0 || c.PValue != 1 || c.Verdict != paired.VerdictNoChange {
		t.Errorf("3 flips each way: %+v", c)
	}
	if !(c.CILow < 0 && c.CIHigh > 0) {
		t.Errorf("CI [%v, %v] should contain 0", c.CILow, c.CIHigh)
	}
}

func TestCompare_Alpha(t *testing.T) {
	// 30 vs 15 discordant: p = 0.0357 (Python above), significant at 0.05
	// and not at 0.01.
	ps := binaryRuns(300, 200, 30, 15)
	for _, tc := range []struct {
		alpha float64
		want  string
	}{{0.05, paired.VerdictWorse}, {0.01, paired.VerdictNoChange}} {
		c, err := paired.Compare(ps, paired.Options{Alpha: tc.alpha, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(c.PValue-0.035697803555194696) > 1e-12 || c.Verdict != tc.want || c.Level != 1-tc.alpha {
			t.Errorf("alpha %v: p %v verdict %q level %v, want %q", tc.alpha, c.PValue, c.Verdict, c.Level, tc.want)
		}
	}
}

func TestCompare_SameSeedSameResult(t *testing.T) {
	ps := binaryRuns(500, 260, 40, 25)
	a, err := paired.Compare(ps, paired.Options{Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := paired.Compare(ps, paired.Options{Seed: 42})
	if !reflect.DeepEqual(a, b) {
		t.Errorf("same seed, different results:\n%+v\n%+v", a, b)
	}
	// The interval of 10,000 resamples moves in steps of 1/500 and is
	// often the same for two seeds; with 200 resamples the interpolated
	// quantiles differ between seeds.
	s1, _ := paired.Compare(ps, paired.Options{Seed: 42, Resamples: 200})
	differs := false
	for seed := uint64(43); seed < 48; seed++ {
		c, _ := paired.Compare(ps, paired.Options{Seed: seed, Resamples: 200})
		differs = differs || c.CILow != s1.CILow || c.CIHigh != s1.CIHigh
		if c.PValue != a.PValue {
			t.Errorf("McNemar's p-value depends on the seed: %v vs %v", a.PValue, c.PValue)
		}
	}
	if !differs {
		t.Errorf("seeds 42–47 gave the same interval [%v, %v]; the seed is not used", s1.CILow, s1.CIHigh)
	}
}

// exactSignFlip enumerates all 2^n sign vectors: the exact permutation
// p-value that the Monte Carlo one estimates (without its +1 terms).
func exactSignFlip(d []float64) float64 {
	n := len(d)
	obs := 0.0
	for _, v := range d {
		obs += v
	}
	obs = math.Abs(obs)
	hits := 0
	for mask := 0; mask < 1<<n; mask++ {
		s := 0.0
		for i, v := range d {
			if mask>>i&1 == 1 {
				s -= v
			} else {
				s += v
			}
		}
		if math.Abs(s) >= obs-1e-9 {
			hits++
		}
	}
	return float64(hits) / float64(int(1)<<n)
}

func TestCompare_PermutationNonBinary(t *testing.T) {
	// mean@4 scores on 12 items: B is better on most, worse on a few.
	a := []float64{0.25, 0.5, 0, 0.75, 1, 0.5, 0.25, 0, 0.5, 0.75, 0.25, 0.5}
	b := []float64{0.5, 0.75, 0.25, 0.75, 1, 0.25, 0.75, 0.25, 0.5, 1, 0.5, 0.25}
	ps := make([]paired.Pair, len(a))
	d := make([]float64, len(a))
	for i := range a {
		ps[i] = paired.Pair{ID: fmt.Sprint(i), A: a[i], B: b[i]}
		d[i] = b[i] - a[i]
	}
	c, err := paired.Compare(ps, paired.Options{Seed: 5, Resamples: 20000})
	if err != nil {
		t.Fatal(err)
	}
	want := exactSignFlip(d)
	// Monte Carlo standard error sqrt(p(1−p)/R) ≈ 0.0034 at p ≈ 0.3.
	se := math.Sqrt(want * (1 - want) / 20000)
	if c.Binary || c.Test != paired.TestPermutation || math.Abs(c.PValue-want) > 4*se+1.0/20001 {
		t.Errorf("permutation p = %v (test %s), exact %v ± %v", c.PValue, c.Test, want, 4*se)
	}
	if c.OnlyA != 2 || c.OnlyB != 7 {
		t.Errorf("only_a/only_b = %d/%d, want 2/7", c.OnlyA, c.OnlyB)
	}
	if want >= 0.05 && c.Verdict != paired.VerdictNoChange {
		t.Errorf("verdict %q with exact p %v", c.Verdict, want)
	}
}

func TestCompare_Errors(t *testing.T) {
	if _, err := paired.Compare([]paired.Pair{{ID: "x", A: 1.5, B: 0}}, paired.Options{}); wmss.ErrorCode(err) != wmss.EINVALID {
		t.Errorf("score 1.5: err = %v, want EINVALID", err)
	}
	if _, err := paired.Compare(nil, paired.Options{Alpha: 1.5}); wmss.ErrorCode(err) != wmss.EINVALID {
		t.Errorf("alpha 1.5: err = %v, want EINVALID", err)
	}
	c, err := paired.Compare(nil, paired.Options{})
	if err != nil || c.N != 0 || c.Verdict != paired.VerdictNoOverlap || c.Significant() {
		t.Errorf("no pairs: %+v, %v", c, err)
	}
}
