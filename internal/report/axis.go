package report

import (
	"math"
	"strconv"
	"strings"
)

// axis is a linear map from a data interval [D0, D1] (D0 < D1) onto a pixel
// interval [P0, P1] (P1 < P0 for a y axis, whose pixels grow downwards),
// with "nice" ticks (1, 2 or 5 × 10^k apart) covering the data.
type axis struct {
	D0, D1 float64
	P0, P1 float64
	Step   float64
	Ticks  []float64
}

// px returns the pixel coordinate of data value v.
func (a axis) px(v float64) float64 {
	return a.P0 + (v-a.D0)/(a.D1-a.D0)*(a.P1-a.P0)
}

// niceAxis returns an axis whose ticks cover [lo, hi] with about n ticks.
// A degenerate interval (lo == hi, a constant series) is widened by 10% of
// |lo| on each side, or by 1 around 0, so the axis never has zero length.
// Non-finite bounds give the axis [0, 1].
func niceAxis(lo, hi float64, n int) axis {
	if !finite(lo) || !finite(hi) {
		lo, hi = 0, 1
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	if lo == hi {
		pad := math.Abs(lo) * 0.1
		if pad == 0 {
			pad = 1
		}
		lo, hi = lo-pad, hi+pad
	}
	if n < 2 {
		n = 2
	}
	step := niceNum(niceNum(hi-lo, false)/float64(n-1), true)
	k0 := math.Floor(lo/step + 1e-9)
	k1 := math.Ceil(hi/step - 1e-9)
	if !finite(step) || step <= 0 || !finite(k0) || !finite(k1) || k1-k0 > 1000 {
		// Spans beyond float64's range or precision: the ends only.
		if !finite(hi - lo) {
			lo, hi = 0, 1
		}
		return axis{D0: lo, D1: hi, Step: hi - lo, Ticks: []float64{lo, hi}}
	}
	if k1 <= k0 {
		k1 = k0 + 1
	}
	a := axis{D0: k0 * step, D1: k1 * step, Step: step}
	for i := range int(k1-k0) + 1 {
		a.Ticks = append(a.Ticks, (k0+float64(i))*step)
	}
	return a
}

// niceNum returns a number 1, 2, 5 or 10 × 10^k close to x > 0: the
// smallest such number ≥ x when round is false, the nearest when true
// (Heckbert, "Nice numbers for graph labels", Graphics Gems, 1990).
func niceNum(x float64, round bool) float64 {
	e := math.Floor(math.Log10(x))
	p := math.Pow(10, e)
	f := x / p
	var nf float64
	switch {
	case round && f < 1.5, !round && f <= 1:
		nf = 1
	case round && f < 3, !round && f <= 2:
		nf = 2
	case round && f < 7, !round && f <= 5:
		nf = 5
	default:
		nf = 10
	}
	return nf * p
}

// tickLabel formats tick v of an axis whose ticks are step apart, with just
// enough digits to tell neighbouring ticks apart: "0.25", "120", "2.5e-5".
func tickLabel(v, step float64) string {
	if math.Abs(v) < step*1e-6 {
		return "0"
	}
	se := math.Floor(math.Log10(step) + 1e-9)
	if step < 1e-3 || math.Abs(v) >= 1e6 {
		ve := math.Floor(math.Log10(math.Abs(v)) + 1e-9)
		prec := int(ve - se)
		prec = max(0, min(prec, 6))
		m, e, _ := strings.Cut(shortExp(strconv.FormatFloat(v, 'e', prec, 64)), "e")
		if strings.Contains(m, ".") {
			m = strings.TrimRight(strings.TrimRight(m, "0"), ".")
		}
		return m + "e" + e
	}
	dec := max(0, int(-se))
	return strconv.FormatFloat(v, 'f', dec, 64)
}

// shortExp turns Go's "2.5e-05" into "2.5e-5" and "1e+06" into "1e6".
func shortExp(s string) string {
	m, e, ok := strings.Cut(s, "e")
	if !ok {
		return s
	}
	sign := ""
	if strings.HasPrefix(e, "-") {
		sign = "-"
	}
	e = strings.TrimLeft(e, "+-0")
	if e == "" {
		e = "0"
	}
	return m + "e" + sign + e
}

// extent returns the smallest and largest finite value of vs, and false if
// there is none.
func extent(vs ...[]float64) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range vs {
		for _, v := range s {
			if !finite(v) {
				continue
			}
			lo, hi, ok = math.Min(lo, v), math.Max(hi, v), true
		}
	}
	return lo, hi, ok
}

// log2Axis returns an axis over log₂ of positive values in [lo, hi]: D0 and
// D1 are whole exponents, and the ticks are powers of two (every s-th
// exponent when there are more than 9), labelled by pow2Label. A degenerate
// interval is widened by a factor 2 on each side; a non-positive or
// non-finite bound gives [1/2, 2].
func log2Axis(lo, hi float64) axis {
	if !(lo > 0) || !(hi > 0) || !finite(lo) || !finite(hi) {
		lo, hi = 1, 1
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	e0 := math.Floor(math.Log2(lo) + 1e-9)
	e1 := math.Ceil(math.Log2(hi) - 1e-9)
	if e1 <= e0 {
		e0, e1 = e0-1, e1+1
	}
	s := math.Max(1, math.Ceil((e1-e0)/8))
	e0 = math.Floor(e0/s) * s
	e1 = math.Ceil(e1/s) * s
	a := axis{D0: e0, D1: e1, Step: s}
	for e := e0; e <= e1+0.5; e += s {
		a.Ticks = append(a.Ticks, e)
	}
	return a
}

// pow2Label writes 2^e for a whole exponent e: "8", "1", "1/4".
func pow2Label(e float64) string {
	switch {
	case e >= 0 && e <= 20:
		return strconv.FormatFloat(math.Exp2(e), 'f', 0, 64)
	case e < 0 && e >= -20:
		return "1/" + strconv.FormatFloat(math.Exp2(-e), 'f', 0, 64)
	}
	return "2^" + strconv.FormatFloat(e, 'f', 0, 64)
}
