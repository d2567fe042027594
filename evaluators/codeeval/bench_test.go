package codeeval_test

import (
	"context"
	"os/exec"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/wmss/wmss/evaluators/codeeval"
	"github.com/wmss/wmss/evaluators/sandbox"
)

// BenchmarkHumanEvalCanonical runs the 164 canonical solutions through
// the sandbox and as plain /usr/bin/python3 subprocesses without isolation
// (the same program text: prompt + solution + test + check), each with
// runtime.NumCPU() programs at a time. The plain side runs the same
// interpreter with the same flags and environment as the sandbox
// (sandbox.Interpreter), so the two differ only by the isolation and the
// harness. Each iteration does one batch of
// each, alternating which goes first, so a change in the host's load hits
// both alike. It reports programs/s of each and their ratio (target:
// sandbox ≥ 80% of plain); bench/sandbox_humaneval.sh runs it on 2 cores.
func BenchmarkHumanEvalCanonical(b *testing.B) {
	if err := sandbox.Available(); err != nil {
		b.Skipf("sandbox unavailable here: %v", err)
	}
	tasks := loadHumanEval(b)
	sb := sandbox.New(sandbox.Options{})
	var jobs []codeeval.Job
	var progs []string
	for _, task := range tasks {
		jobs = append(jobs, codeeval.Job{TaskID: task.TaskID, Program: codeeval.HumanEvalProgram(task, task.CanonicalSolution)})
		progs = append(progs, task.Prompt+task.CanonicalSolution+"\n"+task.Test+"\n"+"check("+task.EntryPoint+")\n")
	}
	pyArgv, pyEnv := sandbox.Interpreter(sandbox.DefaultPython)
	sandboxed := func() time.Duration {
		start := time.Now()
		for _, o := range codeeval.RunAll(context.Background(), sb, jobs, limits) {
			if !o.Passed {
				b.Fatalf("%s: %v (%s)", o.TaskID, o.Verdict, o.Reason)
			}
		}
		return time.Since(start)
	}
	plain := func() time.Duration {
		start := time.Now()
		sem := make(chan struct{}, runtime.NumCPU())
		var wg sync.WaitGroup
		for i, p := range progs {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				cmd := exec.Command(pyArgv[0], append(pyArgv[1:], "-c", p)...)
				cmd.Env = pyEnv
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Errorf("%s: %v\n%s", tasks[i].TaskID, err, out)
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	var ts, tp time.Duration
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 {
			ts += sandboxed()
			tp += plain()
		} else {
			tp += plain()
			ts += sandboxed()
		}
	}
	n := float64(len(jobs) * b.N)
	b.ReportMetric(n/ts.Seconds(), "sandbox_programs/s")
	b.ReportMetric(n/tp.Seconds(), "plain_programs/s")
	b.ReportMetric(100*tp.Seconds()/ts.Seconds(), "sandbox_%_of_plain")
}
