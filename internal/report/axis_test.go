package report

import (
	"math"
	"slices"
	"testing"
)

func TestNiceAxis(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		n      int
		labels []string
	}{
		{0, 100, 10, []string{"0", "10", "20", "30", "40", "50", "60", "70", "80", "90", "100"}},
		{2, 10, 6, []string{"2", "4", "6", "8", "10"}},
		{0, 1e-3, 6, []string{"0", "2e-4", "4e-4", "6e-4", "8e-4", "1e-3"}},
		// A constant series: widened by 10% each side, never zero length.
		{0.3, 0.3, 5, []string{"0.26", "0.28", "0.30", "0.32", "0.34"}},
		{0, 0, 5, []string{"-1.0", "-0.5", "0", "0.5", "1.0"}},
		{0, 2.5e6, 6, []string{"0", "1e6", "2e6", "3e6"}},
		{math.NaN(), 1, 3, []string{"0", "0.5", "1.0"}},
		// A span that overflows float64: the data's ends, no tick loop.
		{-1e308, 1e308, 5, []string{"0", "1"}},
		{1e15, 1e15 + 0.5, 5, nil}, // any labels, but it must return
	} {
		a := niceAxis(c.lo, c.hi, c.n)
		var got []string
		for _, v := range a.Ticks {
			got = append(got, tickLabel(v, a.Step))
		}
		if c.labels != nil && !slices.Equal(got, c.labels) {
			t.Errorf("niceAxis(%v, %v, %d) ticks %q, want %q", c.lo, c.hi, c.n, got, c.labels)
		}
		if !(a.D1 > a.D0) || (finite(c.lo) && finite(c.hi-c.lo) && (a.D0 > c.lo || a.D1 < c.hi)) {
			t.Errorf("niceAxis(%v, %v) = [%v, %v] does not cover the data", c.lo, c.hi, a.D0, a.D1)
		}
	}
}

func TestTickLabel(t *testing.T) {
	for _, c := range []struct {
		v, step float64
		want    string
	}{{1.5e6, 5e5, "1.5e6"}, {2.5e-5, 5e-6, "2.5e-5"}, {1e-3, 2e-4, "1e-3"}, {1200, 200, "1200"}, {0.25, 0.05, "0.25"}, {1e-19, 0.1, "0"}} {
		if got := tickLabel(c.v, c.step); got != c.want {
			t.Errorf("tickLabel(%v, %v) = %q, want %q", c.v, c.step, got, c.want)
		}
	}
}

func TestLog2Axis(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		labels []string
	}{
		{0.625, 2.5, []string{"1/2", "1", "2", "4"}},
		{1, 1, []string{"1/2", "1", "2"}},
		{0, 5, []string{"1/2", "1", "2"}}, // no positive lower bound
		{1.0 / 1000, 1000, []string{"1/4096", "1/512", "1/64", "1/8", "1", "8", "64", "512", "4096"}},
	} {
		a := log2Axis(c.lo, c.hi)
		var got []string
		for _, e := range a.Ticks {
			got = append(got, pow2Label(e))
		}
		if !slices.Equal(got, c.labels) {
			t.Errorf("log2Axis(%v, %v) ticks %q, want %q", c.lo, c.hi, got, c.labels)
		}
	}
}

func TestViridis(t *testing.T) {
	for _, c := range []struct {
		t    float64
		want string
	}{{0, "#440154"}, {0.5, "#21918c"}, {1, "#fde725"}, {-3, "#440154"}, {7, "#fde725"}, {math.NaN(), "#440154"},
		{1.0 / 16, "#461768" /* midway between #440154 and #472d7b, halves rounded up */}} {
		if got := viridis(c.t); got != c.want {
			t.Errorf("viridis(%v) = %s, want %s", c.t, got, c.want)
		}
	}
}

// TestWilson checks the 95% Wilson interval: 50/100 gives 0.4038–0.5962
// (Agresti & Coull 1998, table values), and 0/n has upper bound z²/(n+z²).
func TestWilson(t *testing.T) {
	lo, hi := wilson(0.5, 100)
	if math.Abs(lo-0.40383) > 5e-5 || math.Abs(hi-0.59617) > 5e-5 {
		t.Errorf("wilson(0.5, 100) = [%v, %v], want [0.40383, 0.59617]", lo, hi)
	}
	lo, hi = wilson(0, 200)
	if want := z95 * z95 / (200 + z95*z95); lo != 0 || math.Abs(hi-want) > 1e-12 {
		t.Errorf("wilson(0, 200) = [%v, %v], want [0, %v]", lo, hi, want)
	}
	if lo, hi := wilson(0.3, 0); !math.IsNaN(lo) || !math.IsNaN(hi) {
		t.Errorf("wilson with n = 0 = [%v, %v], want NaN", lo, hi)
	}
}

func TestSmoothRestartsAtPhase(t *testing.T) {
	got := smooth([]float64{1, 3, 5, 7, 100, 200}, []int{0, 0, 0, 0, 1, 1}, 2)
	want := []float64{1, 2, 4, 6, 100, 150}
	if !slices.Equal(got, want) {
		t.Errorf("smooth = %v, want %v", got, want)
	}
}
