package mathgrade_test

import (
	"context"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"testing"

	"github.com/wmss/wmss/evaluators/benchmarks"
	"github.com/wmss/wmss/evaluators/mathgrade"
)

// mathSets are the shipped math sets: the seven of the paper's average and
// the two training files.
var mathSets = []string{"gsm8k", "math500", "svamp", "mawps", "aqua", "aime25", "amc23", "gsm8k-train", "mawps-train"}

func dataDir(t testing.TB) string {
	t.Helper()
	dir, err := benchmarks.FindDataDir(".")
	if err != nil {
		t.Skipf("shared benchmark data not available: %v", err)
	}
	return dir
}

var choiceGoldRE = regexp.MustCompile(`^\\text\{\(([A-E])\)\}$`)

var decimalRE = regexp.MustCompile(`^-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$`)

// simplest returns the simplest fraction within tol of x (continued
// fractions), so a float gold such as 1.8333333333333335 gets 11/6.
func simplest(x *big.Rat, tol float64) *big.Rat {
	f, _ := x.Float64()
	h0, h1 := big.NewInt(1), big.NewInt(0)
	k0, k1 := big.NewInt(0), big.NewInt(1)
	r := new(big.Rat).Set(x)
	for i := 0; i < 40; i++ {
		a := new(big.Int).Quo(r.Num(), r.Denom()) // floor for r ≥ 0
		if r.Sign() < 0 && new(big.Int).Rem(r.Num(), r.Denom()).Sign() != 0 {
			a.Sub(a, big.NewInt(1))
		}
		h0, h1 = new(big.Int).Add(new(big.Int).Mul(a, h0), h1), h0
		k0, k1 = new(big.Int).Add(new(big.Int).Mul(a, k0), k1), k0
		c := new(big.Rat).SetFrac(h0, k0)
		cf, _ := c.Float64()
		if d := cf - f; d < tol*abs(f)+1e-15 && -d < tol*abs(f)+1e-15 {
			return c
		}
		frac := new(big.Rat).Sub(r, new(big.Rat).SetInt(a))
		if frac.Sign() == 0 {
			return c
		}
		r = frac.Inv(frac)
	}
	return x
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// withCommas writes an integer with comma thousands separators.
func withCommas(n *big.Int) string {
	s := new(big.Int).Abs(n).String()
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if n.Sign() < 0 {
		return "-" + b.String()
	}
	return b.String()
}

func inline(g string) string {
	if strings.Contains(g, "$") {
		return `\(` + g + `\)`
	}
	return "$" + g + "$"
}

// respace drops the spaces of a LaTeX answer (keeping "\cot x" apart) and
// writes \frac as \dfrac: the same answer in another surface form.
func respace(g string) string {
	var b strings.Builder
	for i := 0; i < len(g); i++ {
		if g[i] == ' ' {
			j := i - 1
			for j >= 0 && (g[j] >= 'a' && g[j] <= 'z' || g[j] >= 'A' && g[j] <= 'Z') {
				j--
			}
			if j >= 0 && g[j] == '\\' && j < i-1 && i+1 < len(g) && g[i+1] != '\\' && g[i+1] != '{' {
				b.WriteByte(' ')
			}
			continue
		}
		b.WriteByte(g[i])
	}
	return strings.ReplaceAll(b.String(), `\frac`, `\dfrac`)
}

type form struct {
	name, output string
	opts         mathgrade.Options
}

// forms writes gold in several equivalent surface forms and one wrong answer.
func forms(bench, gold string) (right []form, wrong string) {
	right = []form{
		{"boxed", "Let me work through it step by step.\nSo the result is $\\boxed{" + gold + "}$.", mathgrade.Options{}},
		{"phrase", "Working it out gives the value.\nThe answer is " + inline(gold) + ".", mathgrade.Options{}},
		{"final-answer", "**Final Answer:** " + inline(respace(gold)), mathgrade.Options{}},
	}
	if bench == "aqua" {
		next := string(rune('A' + (gold[0]-'A'+1)%5))
		right = append(right[:1],
			form{"phrase", "Checking the options, the answer is (" + gold + ").", mathgrade.Options{Choice: true}},
			form{"boxed-text", `\boxed{\text{(` + gold + `) the value}}`, mathgrade.Options{Choice: true}})
		return right, `\boxed{` + next + `}`
	}
	if strings.HasPrefix(bench, "gsm8k") {
		right = append(right, form{"hash-strict", "Work.\n#### " + gold, mathgrade.Options{Mode: mathgrade.ModeStrict}})
		right = append(right, form{"prose-flexible", "So the total is " + gold + " in the end.", mathgrade.Options{Mode: mathgrade.ModeFlexible}})
	}
	if m := choiceGoldRE.FindStringSubmatch(gold); m != nil { // MATH-500's \text{(C)}
		return right, `\boxed{\text{(` + string(rune('A'+(m[1][0]-'A'+1)%5)) + `)}}`
	}
	if !decimalRE.MatchString(gold) {
		return right, `\boxed{` + gold + `+1}`
	}
	r, _ := new(big.Rat).SetString(strings.ReplaceAll(gold, ",", ""))
	if digits := strings.TrimLeft(strings.NewReplacer(".", "", "-", "", ",", "").Replace(gold), "0"); len(digits) >= 15 {
		r = simplest(r, 1e-12) // a float printed in full: its fraction
	}
	if r.IsInt() {
		two := new(big.Int).Mul(r.Num(), big.NewInt(2))
		right = append(right, form{"fraction", fmt.Sprintf(`\boxed{\frac{%s}{2}}`, two), mathgrade.Options{}})
		if new(big.Int).Abs(r.Num()).Cmp(big.NewInt(1000)) >= 0 {
			right = append(right, form{"thousands", "The answer is " + withCommas(r.Num()) + ".", mathgrade.Options{}})
		}
	} else {
		num, den := r.Num(), r.Denom()
		if num.Sign() < 0 {
			right = append(right, form{"fraction", fmt.Sprintf(`\boxed{-\dfrac{%s}{%s}}`, new(big.Int).Neg(num), den), mathgrade.Options{}})
		} else {
			right = append(right, form{"fraction", fmt.Sprintf(`\boxed{\dfrac{%s}{%s}}`, num, den), mathgrade.Options{}})
		}
	}
	wrongR := new(big.Rat).Add(r, big.NewRat(1, 1))
	return right, `\boxed{` + wrongR.RatString() + `}`
}

// TestShippedGolds: every gold answer of every shipped math set, written in
// at least three equivalent forms, grades equal; the gold plus one grades
// not equal.
func TestShippedGolds(t *testing.T) {
	dir := dataDir(t)
	ctx := context.Background()
	for _, name := range mathSets {
		t.Run(name, func(t *testing.T) {
			b, err := benchmarks.Load(dir, name)
			if err != nil {
				t.Fatal(err)
			}
			fails := 0
			for _, it := range b.Items {
				right, wrong := forms(name, it.Answer)
				if len(right) < 3 {
					t.Fatalf("%s: only %d forms", it.ID, len(right))
				}
				for _, f := range right {
					if r := mathgrade.Grade(ctx, it.Answer, f.output, f.opts); r.Verdict != mathgrade.VerdictEqual {
						if fails++; fails <= 25 {
							t.Errorf("%s gold %q, %s form %q: %+v", it.ID, it.Answer, f.name, f.output, r)
						}
					}
				}
				opts := mathgrade.Options{Choice: name == "aqua"}
				if r := mathgrade.Grade(ctx, it.Answer, wrong, opts); r.Verdict != mathgrade.VerdictNotEqual {
					if fails++; fails <= 25 {
						t.Errorf("%s gold %q, wrong answer %q: %+v", it.ID, it.Answer, wrong, r)
					}
				}
			}
			if fails > 0 {
				t.Errorf("%d failures in %d items", fails, len(b.Items))
			}
		})
	}
}
