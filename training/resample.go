package training

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/wmss/wmss"
)

// RNG streams. Every random choice in a job is drawn from math/rand/v2's PCG
// seeded with (job seed, stream), so that two uses of one seed do not share
// a sequence. The values are the ASCII bytes of the names, big-endian; they
// fix which samples a seed selects, so never change one.
const (
	streamResample uint64 = 0x7265_7361_6d70_6c65 // "resample"
	streamShuffle  uint64 = 0x7368_7566_666c_6500 // "shuffle\x00"
)

// newRNG returns the PCG generator for seed and stream.
//
// math/rand/v2's PCG is PCG-DXSM with a 128-bit LCG state (O'Neill; the
// constants are those of pcg-cpp and NumPy's PCG64DXSM multiplier family), and
// its Uint64 output for given seeds is a documented, tested property of the
// standard library, identical on every platform. Only Uint64 is used: the
// conversions to floats and bounded integers below are ours, so no change in
// rand.Rand's helper methods can move a job's data order.
func newRNG(seed, stream uint64) *rand.PCG { return rand.NewPCG(seed, stream) }

// unitFloat returns a float64 in [0, 1) from the top 53 bits of x.
func unitFloat(x uint64) float64 { return float64(x>>11) * 0x1p-53 }

// ResampleOptions control the draw of phase 2 (wmss-method.md, "Pipeline",
// step 2).
type ResampleOptions struct {
	// Multiplier scales the number of draws: round(|D|·Multiplier), with
	// halves rounded away from zero. Must be > 0. Reference run: 1.0.
	Multiplier float64
	// Seed seeds the draw (stream "resample"). Reference run: 42.
	Seed uint64
	// DropDuplicates keeps only the first draw of each index (paper v2).
	DropDuplicates bool
}

// DrawCount returns round(n·multiplier), the number of indices Resample draws
// for n samples.
func DrawCount(n int, multiplier float64) int { return int(math.Round(float64(n) * multiplier)) }

// Resample draws DrawCount(len(p), o.Multiplier) sample indices with
// replacement, index i with probability p[i]/Σp, and returns them in draw
// order (with o.DropDuplicates, the first occurrence of each, in draw order).
//
// Each draw takes one Uint64 u from the seeded PCG and returns the smallest i
// whose cumulative sum c_i = p[0]+…+p[i] (summed left to right in float64)
// is greater than unitFloat(u)·c_{n−1} (inverse CDF); a sample with p[i] = 0
// is never drawn. The same p, options and seed give the same indices on every
// platform.
//
// Errors (EINVALID): a multiplier that is not finite and > 0 ("multiplier");
// a negative or non-finite weight, or weights summing to 0 ("weights[i]",
// "weights"). An empty p returns no indices.
func Resample(p []float64, o ResampleOptions) ([]int, error) {
	if !finite(o.Multiplier) || o.Multiplier <= 0 {
		return nil, wmss.FieldErrorf("multiplier", "must be a finite number > 0, got %v", o.Multiplier)
	}
	if len(p) == 0 {
		return []int{}, nil
	}
	cum := make([]float64, len(p))
	var s float64
	last := -1 // last index with a positive weight
	for i, v := range p {
		if !finite(v) || v < 0 {
			return nil, wmss.FieldErrorf("weights["+itoa(i)+"]", "must be a finite number ≥ 0, got %v", v)
		}
		s += v
		cum[i] = s
		if v > 0 {
			last = i
		}
	}
	if last < 0 {
		return nil, wmss.FieldErrorf("weights", "all %d weights are 0", len(p))
	}

	rng := newRNG(o.Seed, streamResample)
	n := DrawCount(len(p), o.Multiplier)
	out := make([]int, 0, n)
	var seen []bool
	if o.DropDuplicates {
		seen = make([]bool, len(p))
	}
	for range n {
		x := unitFloat(rng.Uint64()) * s
		i := sort.Search(len(cum), func(j int) bool { return cum[j] > x })
		if i > last {
			// x rounded up to the total: take the last drawable sample.
			i = last
		}
		if seen != nil {
			if seen[i] {
				continue
			}
			seen[i] = true
		}
		out = append(out, i)
	}
	return out, nil
}
