package codeeval

import (
	"strings"

	"github.com/wmss/wmss/evaluators/sandbox"
)

// HumanEvalTask is one HumanEval problem, with the field names of
// HumanEval.jsonl.gz (see ../shared/data/README.md).
type HumanEvalTask struct {
	TaskID            string `json:"task_id"` // "HumanEval/0" … "HumanEval/163"
	Prompt            string `json:"prompt"`  // signature and docstring
	CanonicalSolution string `json:"canonical_solution"`
	Test              string `json:"test"`        // defines check(candidate)
	EntryPoint        string `json:"entry_point"` // the function under test
}

// HumanEvalProgram returns the program that checks completion against
// task: code prompt + completion, then one test, task.Test followed by
// check(entry_point). completion continues the prompt (a function body),
// or is a whole function definition from Sanitize, which then replaces the
// prompt's. Line ends are normalised to "\n".
func HumanEvalProgram(task HumanEvalTask, completion string) sandbox.Program {
	code := task.Prompt + strings.ReplaceAll(completion, "\r\n", "\n") + "\n"
	test := task.Test + "\n" + "check(" + task.EntryPoint + ")\n"
	return sandbox.Program{Code: code, Tests: []string{test}}
}
