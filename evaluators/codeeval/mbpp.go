package codeeval

import (
	"strings"

	"github.com/wmss/wmss/evaluators/sandbox"
)

// MBPPTask is one MBPP problem, with the field names of mbpp.jsonl (see
// ../shared/data/README.md). The test split is task_id 11–510.
type MBPPTask struct {
	TaskID            int      `json:"task_id"`
	Text              string   `json:"text"` // the task in English
	Code              string   `json:"code"` // reference solution (CRLF line ends)
	TestSetupCode     string   `json:"test_setup_code"`
	TestList          []string `json:"test_list"` // three assert statements
	ChallengeTestList []string `json:"challenge_test_list"`
}

// MBPPProgram returns the program that checks completion against task:
// code completion, then each assert of task.TestList as its own test,
// preceded by test_setup_code (challenge tests are not run, as in the
// reference evaluation). Line ends are normalised to "\n".
//
// The setup runs after the completion, inside each trusted test, because
// it uses the completion's definitions: the only test-split task with
// setup code, 367, builds trees with the solution's own Node class, and
// fails with a NameError when the setup comes first.
func MBPPProgram(task MBPPTask, completion string) sandbox.Program {
	code := strings.ReplaceAll(completion, "\r\n", "\n") + "\n"
	setup := ""
	if strings.TrimSpace(task.TestSetupCode) != "" {
		setup = strings.ReplaceAll(task.TestSetupCode, "\r\n", "\n") + "\n"
	}
	tests := make([]string, len(task.TestList))
	for i, t := range task.TestList {
		tests[i] = setup + strings.ReplaceAll(t, "\r\n", "\n") + "\n"
	}
	return sandbox.Program{Code: code, Tests: tests}
}
