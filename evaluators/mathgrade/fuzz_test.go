package mathgrade_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wmss/wmss/evaluators/mathgrade"
)

// seeds are model-output shapes that have broken graders before; they run
// as ordinary tests (the seed corpus) and start `go test -fuzz`.
var seeds = []string{
	`The range is \boxed{[1,4)}`,
	`I will mark it with \boxed as asked. \boxed{12}`,
	`\boxed{\frac{2}{7}}`,
	`\boxed{\frac{1}{2}`,
	`\boxed{{{{{{}`,
	`}}}}\boxed{}}}`,
	`12+30=42 … Final Answer: **58**`,
	`So she earns **$18** per day.`,
	`The total is 72, as computed.`,
	`#### 1,234,567`,
	`$3^{3^{3^{3}}}$`,
	`\boxed{\text{(B)}}`,
	`\left( 2, \frac{\pi}{3} \right)`,
	`\begin{pmatrix} 1 \\ 2 \end{pmatrix}`,
	`\{1\pm\sqrt{5},-2\}`,
	`(-\infty, 2) \cup (3, \infty)`,
	`10,\! 080 dollars.`,
	`\frac\frac\sqrt`,
	`\sqrt[`,
	`x^{-}`,
	`1/0`,
	`0^{-1}`,
	`99999999999!`,
	`\binom{100000}{50000}`,
	`2^{2^{2^{2^{2^{2}}}}}`,
	`((((((((((((((((((((((((((((((((((((((((1))))))))))))))))))))))))))))))))))))))))`,
	"answer: \u00a0−5 percent",
}

func FuzzExtract(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, m := range []mathgrade.Mode{mathgrade.ModeCascade, mathgrade.ModeStrict, mathgrade.ModeFlexible} {
			e, ok := mathgrade.Extract(s, m)
			if !ok && e != (mathgrade.Extraction{}) {
				t.Fatalf("Extract(%q) not ok but returned %+v", s, e)
			}
			if m == mathgrade.ModeFlexible && ok && e.Source != mathgrade.SourceLastNumber {
				t.Fatalf("flexible mode used %s", e.Source)
			}
			if ok && e.Source == mathgrade.SourceLastNumber && !strings.Contains(s, e.Answer) && !strings.Contains(strings.NewReplacer("**", "", "__", "").Replace(s), e.Answer) {
				t.Fatalf("last number %q is not in the output %q", e.Answer, s)
			}
		}
		if e, ok := mathgrade.ExtractChoice(s); ok && (len(e.Answer) != 1 || e.Answer[0] < 'A' || e.Answer[0] > 'E') {
			t.Fatalf("ExtractChoice(%q) = %q, not a letter A–E", s, e.Answer)
		}
	})
}

func FuzzNormalize(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := mathgrade.Normalize(s)
		if utf8.ValidString(s) && !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q, invalid UTF-8", s, n)
		}
		if n != strings.TrimSpace(n) {
			t.Fatalf("Normalize(%q) = %q, not trimmed", s, n)
		}
		// Grading must never fault on any input: no panic, no deadline.
		r := mathgrade.Grade(context.Background(), s, s, mathgrade.Options{})
		if r.Verdict == mathgrade.VerdictError {
			t.Fatalf("Grade(%q, %q) = %+v", s, s, r)
		}
	})
}
