package mathgrade_test

import (
	"context"
	"testing"

	"github.com/wmss/wmss/evaluators/benchmarks"
	"github.com/wmss/wmss/evaluators/mathgrade"
)

// BenchmarkGradeGolds grades every gold answer of the paper's seven math
// sets (3,381 items) against a boxed model output holding the same answer,
// on the numeric path (no Symbolic), one item at a time. Target: ≥ 20,000
// answers/s. Run: go test -run '^$' -bench GradeGolds ./evaluators/mathgrade
func BenchmarkGradeGolds(b *testing.B) {
	dir := dataDir(b)
	type pair struct {
		gold, output string
		opts         mathgrade.Options
	}
	var pairs []pair
	for _, name := range benchmarks.MathAverage {
		bm, err := benchmarks.Load(dir, name)
		if err != nil {
			b.Fatal(err)
		}
		for _, it := range bm.Items {
			pairs = append(pairs, pair{it.Answer, "Step by step, we get the result.\nThe final answer is $\\boxed{" + it.Answer + "}$.", mathgrade.Options{Choice: bm.Kind == benchmarks.KindChoice}})
		}
	}
	ctx := context.Background()
	b.ResetTimer()
	wrong := 0
	for i := 0; i < b.N; i++ {
		p := pairs[i%len(pairs)]
		if r := mathgrade.Grade(ctx, p.gold, p.output, p.opts); r.Verdict != mathgrade.VerdictEqual {
			wrong++
		}
	}
	b.StopTimer()
	if wrong > 0 {
		b.Fatalf("%d of %d graded not equal", wrong, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "answers/s")
}

// BenchmarkGradeGoldsParallel is BenchmarkGradeGolds with GOMAXPROCS
// goroutines grading at once.
func BenchmarkGradeGoldsParallel(b *testing.B) {
	dir := dataDir(b)
	var golds []string
	for _, name := range []string{"aime25", "math500", "amc23", "gsm8k", "mawps", "svamp"} {
		bm, err := benchmarks.Load(dir, name)
		if err != nil {
			b.Fatal(err)
		}
		for _, it := range bm.Items {
			golds = append(golds, it.Answer)
		}
	}
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			g := golds[i%len(golds)]
			i++
			mathgrade.Grade(ctx, g, "The answer is \\boxed{"+g+"}.", mathgrade.Options{})
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "answers/s")
}
