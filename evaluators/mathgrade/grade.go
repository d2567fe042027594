// Package mathgrade grades a model's answer to a math problem against the
// gold answer. It follows the stages of huggingface/Math-Verify: extract
// (extract.go: the last balanced \boxed{}, a final-answer phrase, GSM8K's
// "####", the last number; a letter for multiple choice), normalise
// (normalize.go), compare (equal.go, expr.go: exact rationals with math/big,
// tolerance only for irrational values, tuples, intervals, sets, matrices,
// expressions and equations), and Grade (grade.go), which puts them together
// under a per-item deadline.
//
// A grader fault (a panic, the deadline, a failing Symbolic checker) is the
// verdict error and never counts as a wrong answer (scoring cases B20, B21).
package mathgrade

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Verdict is the outcome of grading one answer.
type Verdict string

// Verdicts. Only VerdictEqual counts as correct and only VerdictNotEqual and
// VerdictNoAnswer as wrong; VerdictError is a fault of the grader, reported apart from both.
const (
	VerdictEqual    Verdict = "equal"     // the extracted answer equals the gold answer
	VerdictNotEqual Verdict = "not_equal" // it does not
	VerdictNoAnswer Verdict = "no_answer" // no answer could be extracted
	VerdictError    Verdict = "error"     // the grader failed (panic, deadline, Symbolic error)
)

// DefaultTimeout is the per-item deadline when Options.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// DefaultRelTol is the relative tolerance used when one side is irrational
// and Options.RelTol is zero.
const DefaultRelTol = 1e-6

// Symbolic decides symbolic equivalence of two normalised LaTeX answers when
// the numeric path cannot (an unknown command, or to confirm a sample-point
// match). Implementations must honour ctx and return an error (never
// false) when they fail or time out, so the item is graded VerdictError.
// The bridge-backed one calls dispatch("wmss_engine.mathsym", "sym_equal",
// {"a": a, "b": b, "timeout_s": seconds left}) and reads {"equal": bool};
// a raised TimeoutError or RuntimeError becomes the error.
type Symbolic interface {
	Equal(ctx context.Context, a, b string) (bool, error)
}

// Options configures Grade. The zero value grades a free-form math answer
// with the full extraction cascade.
type Options struct {
	// Mode limits extraction: ModeCascade (default), ModeStrict (only answers
	// the model marked: \boxed{}, phrase, ####) or ModeFlexible (the last
	// number). GSM8K reports strict and flexible accuracy separately.
	Mode Mode
	// Choice grades a multiple-choice letter (AQuA). A gold answer that is
	// one capital letter, such as "B" or "\text{(B)}", is graded this way
	// even when Choice is false.
	Choice bool
	// PercentAsFraction lets "0.35" equal a gold "35%" (per benchmark; off
	// by default). "35", "35%" and "35 percent" always equal "35\%".
	PercentAsFraction bool
	// RelTol is the relative tolerance for irrational values; 0 means
	// DefaultRelTol.
	RelTol float64
	// Timeout is the per-item deadline; 0 means DefaultTimeout.
	Timeout time.Duration
	// Symbolic, when set, is asked when the numeric path cannot decide.
	Symbolic Symbolic
}

func (o Options) relTol() float64 {
	if o.RelTol > 0 {
		return o.RelTol
	}
	return DefaultRelTol
}

// Result is the outcome of grading one model output.
type Result struct {
	Verdict Verdict `json:"verdict"`
	Answer  string  `json:"answer,omitempty"` // the extracted answer, as written
	Source  Source  `json:"source,omitempty"` // where it was found
	// Method says how equality was decided: "string", "exact", "tolerance",
	// "points", "choice" or "symbolic".
	Method string `json:"method,omitempty"`
	Err    string `json:"error,omitempty"` // why, when Verdict is VerdictError
}

// Correct reports whether the result counts as a correct answer.
func (r Result) Correct() bool { return r.Verdict == VerdictEqual }

var choiceGoldRE = regexp.MustCompile(`^\(?([A-Z])\)?$`)

// GoldAnswer returns the final answer inside a gold field: the text after
// GSM8K's last "####", the last \boxed{} of a worked solution, or the whole
// field (a bare LaTeX answer such as "\dfrac{5}{3}", B14), trimmed.
func GoldAnswer(gold string) string {
	if h, ok := afterHash(gold); ok {
		return h
	}
	if b, ok := LastBoxed(gold); ok {
		return b
	}
	return strings.TrimSpace(gold)
}

// Grade extracts the answer from a model output and compares it with the
// gold answer (gold first: the comparison is not symmetric in what is
// extracted). It never panics and always returns within opts.Timeout (or
// ctx's deadline, if sooner): a panic or the deadline gives VerdictError.
func Grade(ctx context.Context, gold, output string, opts Options) Result {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan Result, 1) // buffered: a late result never blocks
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- Result{Verdict: VerdictError, Err: fmt.Sprintf("grader panic: %v", r)}
			}
		}()
		done <- grade(ctx, gold, output, opts)
	}()
	select {
	case r := <-done:
		return r
	case <-ctx.Done():
		return Result{Verdict: VerdictError, Err: fmt.Sprintf("grader deadline: %v", ctx.Err())}
	}
}

func grade(ctx context.Context, gold, output string, opts Options) Result {
	g := GoldAnswer(gold)
	if m := choiceGoldRE.FindStringSubmatch(Normalize(g)); opts.Choice || m != nil {
		want := strings.ToUpper(strings.Trim(Normalize(g), "()"))
		e, ok := ExtractChoice(output)
		if !ok {
			return Result{Verdict: VerdictNoAnswer}
		}
		r := Result{Verdict: VerdictNotEqual, Answer: e.Answer, Source: e.Source, Method: "choice"}
		if e.Answer == want {
			r.Verdict = VerdictEqual
		}
		return r
	}
	e, ok := Extract(output, opts.Mode)
	if !ok {
		return Result{Verdict: VerdictNoAnswer}
	}
	eq, method, err := equalMethod(ctx, g, e.Answer, opts)
	r := Result{Verdict: VerdictNotEqual, Answer: e.Answer, Source: e.Source, Method: method}
	switch {
	case err != nil:
		r.Verdict, r.Err = VerdictError, err.Error()
	case eq:
		r.Verdict = VerdictEqual
	}
	return r
}

// GradeStrictFlexible grades a GSM8K output twice, as lm-evaluation-harness
// reports it: strict (only an answer the model marked: \boxed{}, a final-
// answer phrase or "####") and flexible (the last number in the output).
// Report both; strict alone scores correct prose answers as wrong (B01).
func GradeStrictFlexible(ctx context.Context, gold, output string, opts Options) (strict, flexible Result) {
	opts.Mode = ModeStrict
	strict = Grade(ctx, gold, output, opts)
	opts.Mode = ModeFlexible
	flexible = Grade(ctx, gold, output, opts)
	return strict, flexible
}
