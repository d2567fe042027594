package codeeval_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wmss/wmss/evaluators/codeeval"
	"github.com/wmss/wmss/evaluators/sandbox"
)

func needSandbox(t *testing.T) {
	t.Helper()
	if err := sandbox.Available(); err != nil {
		t.Skipf("sandbox unavailable here: %v", err)
	}
}

// limits for the reference solutions. HumanEval's reference harness gives
// each problem 3 s; these are more generous: a reference must not fail for want of time on a loaded
// 2-core machine (MBPP 123 needs about 2.2 s of CPU when the machine is
// quiet, and hyperthread contention inflates CPU time).
var limits = sandbox.Limits{CPUTime: 10 * time.Second, WallTime: 30 * time.Second}

// wrongHumanEval replaces the canonical body by one that returns a value
// of the wrong kind: None, except where None could be right.
func wrongHumanEval(task codeeval.HumanEvalTask) string {
	return "    return None\n"
}

// perturbHumanEval keeps the canonical body but perturbs the returned
// value through a wrapper defined after it.
func perturbHumanEval(task codeeval.HumanEvalTask) string {
	return task.CanonicalSolution + fmt.Sprintf(`
_wmss_orig = %[1]s
def %[1]s(*args, **kwargs):
    r = _wmss_orig(*args, **kwargs)
    if isinstance(r, bool):
        return not r
    if isinstance(r, (int, float)):
        return r + 1
    if isinstance(r, str):
        return r + "x"
    if isinstance(r, (list, tuple)):
        return type(r)(list(r) + [r[0] if r else 1])
    return ("perturbed", r)
`, task.EntryPoint)
}

func TestHumanEvalCanonical(t *testing.T) {
	needSandbox(t)
	tasks := loadHumanEval(t)
	var jobs []codeeval.Job
	for _, task := range tasks {
		jobs = append(jobs,
			codeeval.Job{TaskID: task.TaskID + "/canonical", Program: codeeval.HumanEvalProgram(task, task.CanonicalSolution)},
			codeeval.Job{TaskID: task.TaskID + "/return-none", Program: codeeval.HumanEvalProgram(task, wrongHumanEval(task))},
			codeeval.Job{TaskID: task.TaskID + "/perturbed", Program: codeeval.HumanEvalProgram(task, perturbHumanEval(task))},
		)
	}
	outs := codeeval.RunAll(context.Background(), sandbox.Default(), jobs, limits)
	for i, o := range outs {
		canonical := i%3 == 0
		switch {
		case o.Verdict == sandbox.SandboxError:
			t.Errorf("%s: sandbox_error: %v", o.TaskID, o.Err)
		case canonical && !o.Passed:
			t.Errorf("%s: %v (%s)\n%s", o.TaskID, o.Verdict, o.Reason, o.Stderr)
		case !canonical && o.Passed:
			t.Errorf("%s: a wrong variant passed", o.TaskID)
		}
	}
}

// mbppExceptions lists MBPP test-split reference solutions that do not
// pass their own tests, with the reason. Empty while all 500 pass; any
// entry must say why.
var mbppExceptions = map[int]string{}

// mbppEntry returns the function under test: the last function the code
// defines whose name the first assert calls.
func mbppEntry(task codeeval.MBPPTask) string {
	name := ""
	for _, m := range regexp.MustCompile(`(?m)^def\s+(\w+)\s*\(`).FindAllStringSubmatch(task.Code, -1) {
		if regexp.MustCompile(`\b` + m[1] + `\s*\(`).MatchString(task.TestList[0]) {
			name = m[1]
		}
	}
	return name
}

func TestMBPPReference(t *testing.T) {
	needSandbox(t)
	tasks := loadMBPPTest(t)
	var jobs []codeeval.Job
	for _, task := range tasks {
		id := fmt.Sprint(task.TaskID)
		jobs = append(jobs, codeeval.Job{TaskID: id + "/reference", Program: codeeval.MBPPProgram(task, task.Code)})
		entry := mbppEntry(task)
		if entry == "" {
			t.Errorf("task %d: no function of the code is called by %q", task.TaskID, task.TestList[0])
			continue
		}
		wrong := task.Code + "\n\ndef " + entry + "(*args, **kwargs):\n    return None\n"
		jobs = append(jobs, codeeval.Job{TaskID: id + "/return-none", Program: codeeval.MBPPProgram(task, wrong)})
	}
	outs := codeeval.RunAll(context.Background(), sandbox.Default(), jobs, limits)
	for _, o := range outs {
		id, variant, _ := strings.Cut(o.TaskID, "/")
		var n int
		fmt.Sscan(id, &n)
		reason, excepted := mbppExceptions[n]
		switch {
		case o.Verdict == sandbox.SandboxError:
			t.Errorf("task %s %s: sandbox_error: %v", id, variant, o.Err)
		case variant == "reference" && !o.Passed && !excepted:
			t.Errorf("task %s: reference %v (%s)\n%s", id, o.Verdict, o.Reason, o.Stderr)
		case variant == "reference" && o.Passed && excepted:
			t.Errorf("task %s: listed as an exception (%s) but passes", id, reason)
		case variant != "reference" && o.Passed:
			t.Errorf("task %s: a wrong variant passed", id)
		}
		if variant == "reference" && o.Passed && o.TestsPassed != o.Tests {
			t.Errorf("task %s: passed with %d of %d test markers", id, o.TestsPassed, o.Tests)
		}
	}
}
