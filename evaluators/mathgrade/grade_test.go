package mathgrade_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wmss/wmss/evaluators/mathgrade"
)

type gradeCase struct {
	id     string
	gold   string
	output string
	opts   mathgrade.Options
	want   mathgrade.Verdict
	answer string // the extracted answer, when the case is about extraction
}

const (
	eq   = mathgrade.VerdictEqual
	neq  = mathgrade.VerdictNotEqual
	none = mathgrade.VerdictNoAnswer
)

// Rows named Bnn are the M-* rows of ../shared/cases/scoring-cases.md; the
// others are further cases of the same kinds.
var gradeCases = []gradeCase{
	// M-FN: GSM8K prose answers need flexible extraction; strict is reported apart.
	{id: "B01", gold: "She earns 9 * 2 = $<<9*2=18>>18 a day.\n#### 18", output: "So she earns **$18** per day.", want: eq, answer: "18"},
	{id: "B01/strict", gold: "… #### 18", output: "So she earns **$18** per day.", opts: mathgrade.Options{Mode: mathgrade.ModeStrict}, want: none},
	{id: "B01/flexible", gold: "… #### 18", output: "So she earns **$18** per day.", opts: mathgrade.Options{Mode: mathgrade.ModeFlexible}, want: eq, answer: "18"},
	{id: "B01/strict-hash", gold: "#### 18", output: "9*2=18\n#### 18", opts: mathgrade.Options{Mode: mathgrade.ModeStrict}, want: eq, answer: "18"},
	{id: "B01/strict-phrase", gold: "#### 18", output: "9 eggs at $2. The answer is 18.", opts: mathgrade.Options{Mode: mathgrade.ModeStrict}, want: eq, answer: "18"},
	{id: "B01/flexible-last", gold: "#### 18", output: "The answer is 18. Check: 20 - 2", opts: mathgrade.Options{Mode: mathgrade.ModeFlexible}, want: neq, answer: "2"},
	// M-FN: a number starts and ends with a digit.
	{id: "B02", gold: "72", output: "The total is 72, as computed.", want: eq, answer: "72"},
	{id: "B02/thousands", gold: "1234567", output: "So the total comes to 1,234,567, in dollars.", want: eq, answer: "1,234,567"},
	{id: "B02/not-thousands", gold: "12", output: "The pairs are 3,12", want: eq, answer: "12"},
	{id: "B02/trailing-dot", gold: "5", output: "She has 5.", want: eq, answer: "5"},
	{id: "B02/negative", gold: "-7", output: "The temperature fell to -7 degrees", want: eq, answer: "-7"},
	{id: "B02/none", gold: "3", output: "I cannot solve this.", want: none},
	// M-FN: \boxed{} without $ delimiters; balanced braces; prose mentioning \boxed.
	{id: "B04", gold: "[1,4)", output: `The range is \boxed{[1,4)}`, want: eq, answer: "[1,4)"},
	{id: "B04/open-closed-differ", gold: "[1,4)", output: `\boxed{(1,4)}`, want: neq},
	{id: "B05", gold: "12", output: `I will mark it with \boxed as asked. \boxed{12}`, want: eq, answer: "12"},
	{id: "B05/fbox", gold: "12", output: `\boxed{11} no wait \fbox{12}`, want: eq, answer: "12"},
	{id: "B05/unclosed-last", gold: "12", output: `\boxed{12} and then \boxed{13`, want: eq, answer: "12"},
	{id: "B06", gold: `\frac{2}{7}`, output: `\boxed{\frac{2}{7}}`, want: eq, answer: `\frac{2}{7}`},
	{id: "B06/nested", gold: `\frac{\sqrt{3}}{2}`, output: `so $\boxed{\dfrac{\sqrt{3}}{2}}$.`, want: eq, answer: `\dfrac{\sqrt{3}}{2}`},
	{id: "B06/escaped-brace", gold: `\{1,2\}`, output: `\boxed{\{2, 1\}}`, want: eq, answer: `\{2, 1\}`},
	// M-FN: Markdown emphasis.
	{id: "B08", gold: "58", output: "12+30=42 … Final Answer: **58**", want: eq, answer: "58"},
	{id: "B08/underline", gold: "58", output: "The answer is __58__.", want: eq, answer: "58"},
	{id: "B08/phrase-prose", gold: "18", output: "The answer is that she makes 18 dollars every day.", want: eq, answer: "18"},
	{id: "B08/phrase-units-only", gold: `\frac{1}{2}`, output: `The answer is \frac{1}{2} dollars.`, want: eq, answer: `\frac{1}{2} dollars`},
	{id: "B08/phrase-word", gold: `\text{Navin}`, output: "The answer is Navin.", want: eq, answer: "Navin"},
	{id: "B08/minerva", gold: "58", output: "Final Answer: The final answer is $58$. I hope it is correct.", want: eq, answer: "58"},
	// M-FN: multiple-choice letters inside \text{} and parentheses.
	{id: "B09/a", gold: "B", output: `\boxed{\text{(B)}}`, want: eq, answer: "B"},
	{id: "B09/b", gold: "B", output: `\boxed{B: 14 cm}`, want: eq, answer: "B"},
	{id: "B09/math500-gold", gold: `\text{(C)}`, output: `The answer is \boxed{C}.`, want: eq, answer: "C"},
	{id: "B09/wrong-letter", gold: "B", output: `\boxed{\text{(D) 12}}`, want: neq, answer: "D"},
	{id: "B09/aqua-phrase", gold: "E", output: "Checking each option, the answer is (E) 42.", opts: mathgrade.Options{Choice: true}, want: eq, answer: "E"},
	{id: "B09/aqua-paren", gold: "A", output: "So we pick (A).", opts: mathgrade.Options{Choice: true}, want: eq, answer: "A"},
	{id: "B09/aqua-none", gold: "A", output: "I am not sure.", opts: mathgrade.Options{Choice: true}, want: none},
	// M-FN: \text{} around a number.
	{id: "B10", gold: "42", output: `$\text{42}$`, want: eq},
	{id: "B10/mathrm", gold: "42", output: `\boxed{\mathrm{42}}`, want: eq},
	// M-FN: percent.
	{id: "B13/bare", gold: `35\%`, output: `\boxed{35}`, want: eq},
	{id: "B13/sign", gold: `35\%`, output: `\boxed{35%}`, want: eq},
	{id: "B13/word", gold: `35\%`, output: `The answer is 35 percent.`, want: eq},
	{id: "B13/fraction-off", gold: `35\%`, output: `\boxed{0.35}`, want: neq},
	{id: "B13/fraction-on", gold: `35\%`, output: `\boxed{0.35}`, opts: mathgrade.Options{PercentAsFraction: true}, want: eq},
	{id: "B13/wrong", gold: `35\%`, output: `\boxed{36\%}`, want: neq},
	// M-FN: a bare gold without delimiters.
	{id: "B14", gold: `\dfrac{5}{3}`, output: `\boxed{\frac{5}{3}}`, want: eq},
	{id: "B14/decimal-not-exact", gold: `\dfrac{5}{3}`, output: `\boxed{1.67}`, want: neq},
	{id: "B14/unbraced", gold: `\frac 59`, output: `\boxed{\frac{5}{9}}`, want: eq},
	// M-FN: normalisation inside equality.
	{id: "B15", gold: `\left( 2, \frac{\pi}{3} \right)`, output: `\boxed{(2, \frac{\pi}{3})}`, want: eq},
	{id: "B15/order", gold: `\left( 2, \frac{\pi}{3} \right)`, output: `\boxed{(\frac{\pi}{3}, 2)}`, want: neq},
	// M-FP: equations compared as lhs − rhs up to a nonzero factor.
	{id: "B18", gold: "2x+y-5=0", output: `\boxed{x-3y+1=0}`, want: neq},
	{id: "B18/scaled", gold: "2x+y-5=0", output: `\boxed{4x+2y=10}`, want: eq},
	{id: "B18/rearranged", gold: "y = 2x + 3", output: `\boxed{2x - y + 3 = 0}`, want: eq},
	{id: "B18/plane", gold: "5x - 7y + 11z + 4 = 0", output: `\boxed{-10x+14y-22z-8=0}`, want: eq},
	{id: "B18/assign", gold: "x=5", output: `\boxed{5}`, want: eq},
	// M-INF: pathological power returns quickly.
	{id: "B21", gold: "2", output: `$3^{3^{3^{3}}}$`, want: neq},
	// Further exact-arithmetic cases.
	{id: "exact/decimal-fraction", gold: `\frac{1}{4}`, output: `\boxed{0.25}`, want: eq},
	{id: "exact/repeating-not-equal", gold: `\frac{1}{3}`, output: `\boxed{0.333}`, want: neq},
	{id: "exact/mixed", gold: `137 \frac{1}{2}`, output: `\boxed{\frac{275}{2}}`, want: eq},
	{id: "exact/mixed-plain", gold: `1\frac{4}{5}`, output: `\boxed{1.8}`, want: eq},
	{id: "exact/huge-int", gold: "123456789012345678901234567890", output: `\boxed{123456789012345678901234567891}`, want: neq},
	{id: "exact/float-gold", gold: "1.8333333333333335", output: `\boxed{\frac{11}{6}}`, want: eq},
	{id: "exact/float-gold-rounded", gold: "1.8333333333333335", output: `\boxed{1.83}`, want: neq},
	{id: "exact/svamp", gold: "8.0", output: "Each friend got 8 crackers.", want: eq},
	{id: "irrational/tolerance", gold: `\frac{3\sqrt{3}}{4}`, output: `\boxed{1.2990381}`, want: eq},
	{id: "irrational/too-coarse", gold: `\frac{3\sqrt{3}}{4}`, output: `\boxed{1.3}`, want: neq},
	{id: "irrational/forms", gold: `2\sqrt{5}`, output: `\boxed{\sqrt{20}}`, want: eq},
	{id: "irrational/pi", gold: `12\pi`, output: `\boxed{12 \pi}`, want: eq},
	{id: "units/dollars", gold: `\$18.90`, output: `\boxed{18.9 \text{ dollars}}`, want: eq},
	{id: "units/degrees", gold: `106^\circ`, output: `\boxed{106}`, want: eq},
	{id: "units/cents", gold: `5.4 \text{ cents}`, output: `The answer is 5.4 cents.`, want: eq},
	{id: "units/not-inside-word", gold: `\sin x`, output: `\boxed{\sin x}`, want: eq},
	{id: "sets/unordered", gold: `-2,1`, output: `\boxed{1, -2}`, want: eq},
	{id: "sets/pm", gold: `1 \pm \sqrt{19}`, output: `\boxed{1+\sqrt{19}, 1-\sqrt{19}}`, want: eq},
	{id: "sets/pm-missing", gold: `1 \pm \sqrt{19}`, output: `\boxed{1+\sqrt{19}}`, want: neq},
	{id: "sets/union", gold: `(-\infty, 2) \cup (3, \infty)`, output: `\boxed{(3,\infty)\cup(-\infty,2)}`, want: eq},
	{id: "matrix/vector", gold: `\begin{pmatrix} -1/3 \\ 2/3 \\ 5/3 \end{pmatrix}`, output: `\boxed{\begin{pmatrix} -\frac{1}{3} \\ \frac{2}{3} \\ \frac53 \end{pmatrix}}`, want: eq},
	{id: "matrix/wrong", gold: `\begin{pmatrix} -1 & 0 \\ 0 & -1 \end{pmatrix}`, output: `\boxed{\begin{pmatrix} -1 & 0 \\ 0 & 1 \end{pmatrix}}`, want: neq},
	{id: "expr/polynomial", gold: "x^3+3x-6", output: `\boxed{3x + x^3 - 6}`, want: eq},
	{id: "expr/polynomial-wrong", gold: "x^3+3x-6", output: `\boxed{x^3+3x+6}`, want: neq},
	{id: "expr/factored", gold: "(a+5)(b+2)", output: `\boxed{ab+2a+5b+10}`, want: eq},
	{id: "expr/complex", gold: "-2 + 7i", output: `\boxed{7i-2}`, want: eq},
	{id: "text/name", gold: `\text{Evelyn}`, output: `\boxed{\text{evelyn}}`, want: eq},
	{id: "base/subscript", gold: `4210_{5}`, output: `\boxed{4210_5}`, want: eq},
	{id: "exact/scientific", gold: ".0000672", output: `\boxed{6.72 \times 10^{-5}}`, want: eq},
	{id: "exact/latex-comma", gold: "10080", output: `\boxed{10{,}080}`, want: eq},
	{id: "interval/decimal-ends", gold: `\left(\frac{3}{5},\frac{8}{3}\right]`, output: `\boxed{(0.6, 8/3]}`, want: eq},
	{id: "sets/assignments", gold: "1,-2", output: `\boxed{x=1, x=-2}`, want: eq},
	{id: "sets/extra-element", gold: "5", output: `\boxed{5, 7}`, want: neq},
	{id: "expr/extra-variable", gold: "2", output: `\boxed{2x}`, want: neq},
	{id: "expr/case-matters", gold: "3R^2", output: `\boxed{3r^2}`, want: neq},
	{id: "text/empty-box", gold: "3", output: `\boxed{}`, want: neq},
}

func TestGrade(t *testing.T) {
	for _, tc := range gradeCases {
		t.Run(tc.id, func(t *testing.T) {
			r := mathgrade.Grade(context.Background(), tc.gold, tc.output, tc.opts)
			if r.Verdict != tc.want {
				t.Errorf("Grade(%q, %q) = %+v, want verdict %s", tc.gold, tc.output, r, tc.want)
			}
			if tc.answer != "" && r.Answer != tc.answer {
				t.Errorf("Grade(%q, %q) extracted %q, want %q", tc.gold, tc.output, r.Answer, tc.answer)
			}
		})
	}
}

func TestGradeStrictFlexible(t *testing.T) {
	for _, tc := range []struct {
		id, output       string
		strict, flexible mathgrade.Verdict
	}{
		{"B01", "So she earns **$18** per day.", none, eq},
		{"B01/both", "16 - 3 - 4 = 9 eggs, 9 * 2 = 18.\n#### 18", eq, eq},
		{"B01/boxed-then-check", `\boxed{18}, since 9 * 2 = 18 and 18 / 2 = 9`, eq, neq},
	} {
		t.Run(tc.id, func(t *testing.T) {
			s, f := mathgrade.GradeStrictFlexible(context.Background(), "Janet sells 9 eggs.\n#### 18", tc.output, mathgrade.Options{})
			if s.Verdict != tc.strict || f.Verdict != tc.flexible {
				t.Errorf("strict %+v, flexible %+v; want %s, %s", s, f, tc.strict, tc.flexible)
			}
		})
	}
}

// B15: normalisation belongs inside the equality function, whatever the call path.
func TestEqualNormalises(t *testing.T) {
	ok, err := mathgrade.Equal(context.Background(), `\left( 2, \frac{\pi}{3} \right)`, `(2, \frac{\pi}{3})`, mathgrade.Options{})
	if err != nil || !ok {
		t.Errorf("Equal = %v, %v; want true", ok, err)
	}
}

// B20: grading works from any goroutine, concurrently.
func TestGradeConcurrent(t *testing.T) {
	t.Run("B20", func(t *testing.T) {
		var wg sync.WaitGroup
		results := make([]mathgrade.Result, 8)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = mathgrade.Grade(context.Background(), "1/3", `\boxed{\frac{1}{3}}`, mathgrade.Options{})
			}()
		}
		wg.Wait()
		for i, r := range results {
			if r.Verdict != eq {
				t.Errorf("worker %d: %+v, want equal", i, r)
			}
		}
	})
}

// B21: a pathological answer stays within the deadline and the next items
// are graded normally.
func TestGradeHugePowerThenNormal(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	r := mathgrade.Grade(ctx, "2", `$3^{3^{3^{3}}}$`, mathgrade.Options{Timeout: time.Second})
	if r.Verdict != neq && r.Verdict != mathgrade.VerdictError {
		t.Fatalf("huge power: %+v, want not_equal or error", r)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("huge power took %v, past its 1 s deadline", d)
	}
	for i := 0; i < 100; i++ {
		if r := mathgrade.Grade(ctx, "2", `\boxed{2}`, mathgrade.Options{Timeout: time.Second}); r.Verdict != eq {
			t.Fatalf("item %d after the huge power: %+v", i, r)
		}
	}
}

// fakeSymbolic answers from a table of (a, b) pairs of normalised answers
// and records the calls; block makes it wait for ctx, panic makes it panic.
type fakeSymbolic struct {
	mu    sync.Mutex
	equal map[[2]string]bool
	calls int
	block bool
	panic bool
	err   error
}

func (f *fakeSymbolic) Equal(ctx context.Context, a, b string) (bool, error) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	if f.panic {
		panic("symbolic exploded")
	}
	if f.block {
		<-ctx.Done()
		return false, ctx.Err()
	}
	if f.err != nil {
		return false, f.err
	}
	return f.equal[[2]string{a, b}], nil
}

func TestGradeSymbolic(t *testing.T) {
	ctx := context.Background()
	t.Run("NumericDecidesWithoutSymbolic", func(t *testing.T) {
		f := &fakeSymbolic{}
		r := mathgrade.Grade(ctx, `\frac{1}{2}`, `\boxed{0.5}`, mathgrade.Options{Symbolic: f})
		if r.Verdict != eq || f.calls != 0 {
			t.Errorf("got %+v after %d Symbolic calls; want equal with none", r, f.calls)
		}
		r = mathgrade.Grade(ctx, "x^2+1", `\boxed{x^2+2}`, mathgrade.Options{Symbolic: f})
		if r.Verdict != neq || f.calls != 0 {
			t.Errorf("got %+v after %d Symbolic calls; want not_equal with none", r, f.calls)
		}
	})
	t.Run("UnknownCommandAsksSymbolic", func(t *testing.T) {
		f := &fakeSymbolic{equal: map[[2]string]bool{{`\log_2 8`, "3"}: true}}
		r := mathgrade.Grade(ctx, `\log_{2} 8`, `\boxed{3}`, mathgrade.Options{Symbolic: f})
		if r.Verdict != eq || r.Method != "symbolic" || f.calls != 1 {
			t.Errorf("got %+v after %d calls; want equal by symbolic after 1", r, f.calls)
		}
		r = mathgrade.Grade(ctx, `\log_{2} 8`, `\boxed{3}`, mathgrade.Options{})
		if r.Verdict != neq {
			t.Errorf("without Symbolic: %+v, want not_equal", r)
		}
	})
	t.Run("PointsConfirmedBySymbolic", func(t *testing.T) {
		f := &fakeSymbolic{equal: map[[2]string]bool{}}
		r := mathgrade.Grade(ctx, "x^2-1", `\boxed{(x-1)(x+1)}`, mathgrade.Options{Symbolic: f})
		if f.calls != 1 || r.Verdict != neq || r.Method != "symbolic" {
			t.Errorf("got %+v after %d calls; want the Symbolic verdict (not_equal) after 1", r, f.calls)
		}
	})
	t.Run("SymbolicErrorIsError", func(t *testing.T) {
		f := &fakeSymbolic{err: errors.New("sympy died")}
		r := mathgrade.Grade(ctx, `\log_{2} 8`, `\boxed{3}`, mathgrade.Options{Symbolic: f})
		if r.Verdict != mathgrade.VerdictError || !strings.Contains(r.Err, "sympy died") {
			t.Errorf("got %+v, want error carrying the cause", r)
		}
	})
	t.Run("PanicIsError", func(t *testing.T) {
		f := &fakeSymbolic{panic: true}
		r := mathgrade.Grade(ctx, `\log_{2} 8`, `\boxed{3}`, mathgrade.Options{Symbolic: f})
		if r.Verdict != mathgrade.VerdictError || !strings.Contains(r.Err, "panic") {
			t.Errorf("got %+v, want error (panic)", r)
		}
	})
	t.Run("DeadlineIsError", func(t *testing.T) {
		f := &fakeSymbolic{block: true}
		start := time.Now()
		r := mathgrade.Grade(ctx, `\log_{2} 8`, `\boxed{3}`, mathgrade.Options{Symbolic: f, Timeout: 50 * time.Millisecond})
		if r.Verdict != mathgrade.VerdictError {
			t.Errorf("got %+v, want error (deadline)", r)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("returned after %v, deadline was 50ms", d)
		}
	})
}
