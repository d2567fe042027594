package codeeval

import (
	"context"
	"sync"

	"github.com/wmss/wmss/evaluators/sandbox"
)

// Job is one program to score, named by its problem.
type Job struct {
	TaskID  string
	Program sandbox.Program
}

// Outcome is the per-problem verdict of one Job.
type Outcome struct {
	TaskID string
	// Passed is Verdict == sandbox.Passed.
	Passed bool
	// Tests is how many tests the program had, TestsPassed how many passed.
	Tests, TestsPassed int
	// Result is the full sandbox result (verdict, reason, output, times).
	sandbox.Result
}

// RunAll runs jobs in sb (whose concurrency bounds how many run at once)
// and returns their outcomes in the order of jobs.
func RunAll(ctx context.Context, sb *sandbox.Sandbox, jobs []Job, lim sandbox.Limits) []Outcome {
	out := make([]Outcome, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := sb.Run(ctx, j.Program, lim)
			out[i] = Outcome{TaskID: j.TaskID, Passed: r.Verdict == sandbox.Passed,
				Tests: len(j.Program.Tests), TestsPassed: r.TestsPassed, Result: r}
		}()
	}
	wg.Wait()
	return out
}
