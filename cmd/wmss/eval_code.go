package main

import (
	"context"
	"regexp"

	"github.com/wmss/wmss/evaluators/benchmarks"
	"github.com/wmss/wmss/evaluators/codeeval"
	"github.com/wmss/wmss/evaluators/evalrun"
	"github.com/wmss/wmss/evaluators/sandbox"
)

// codeScorer implements evalrun.CodeScorer with the code sandbox: it pulls
// the program out of a chat completion (codeeval.Sanitize), builds the
// HumanEval or MBPP harness program around it and runs it.
type codeScorer struct {
	sb  *sandbox.Sandbox
	lim sandbox.Limits // zero: the sandbox's defaults (5 s CPU, 10 s wall, 1 GiB)
}

var _ evalrun.CodeScorer = codeScorer{}

// mbppCall finds the function an MBPP assert calls: "assert f(…) == …".
var mbppCall = regexp.MustCompile(`^\s*assert\s+(?:not\s+)?\(?\s*(?:set\(|math\.isclose\(|abs\()?\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(`)

// ScoreCode runs completion against it's tests and returns the sandbox
// verdict and the untrusted code that ran.
func (s codeScorer) ScoreCode(ctx context.Context, it benchmarks.Item, completion string) (verdict, program string) {
	var p sandbox.Program
	if it.EntryPoint != "" { // HumanEval
		code := codeeval.Sanitize(completion, it.EntryPoint)
		p = codeeval.HumanEvalProgram(codeeval.HumanEvalTask{TaskID: it.ID, Prompt: it.Question, Test: it.Test, EntryPoint: it.EntryPoint}, code)
	} else { // MBPP
		entry := ""
		if len(it.TestList) > 0 {
			if m := mbppCall.FindStringSubmatch(it.TestList[0]); m != nil {
				entry = m[1]
			}
		}
		code := codeeval.Sanitize(completion, entry)
		p = codeeval.MBPPProgram(codeeval.MBPPTask{Text: it.Question, TestSetupCode: it.TestSetup, TestList: it.TestList}, code)
	}
	r := s.sb.Run(ctx, p, s.lim)
	return r.Verdict.String(), p.Code
}
