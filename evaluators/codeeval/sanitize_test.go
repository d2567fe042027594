package codeeval_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/wmss/wmss/evaluators/codeeval"
	"github.com/wmss/wmss/evaluators/sandbox"
)

func TestSanitize(t *testing.T) {
	tests := []struct {
		id, entry, in, want string
	}{
		{"B40", "f", "def f(n):\n    def helper(k):\n        return k * 2\n    return helper(n) + 1\n\nprint(f(3))\n",
			"def f(n):\n    def helper(k):\n        return k * 2\n    return helper(n) + 1\n"},
		{"TopLevelHelperKept", "f", "```python\nimport math\n\ndef helper(x):\n    return math.sqrt(x)\n\ndef f(x):\n    return helper(x)\n\nprint(f(4))\nassert f(9) == 3\n```\n",
			"import math\n\ndef helper(x):\n    return math.sqrt(x)\n\ndef f(x):\n    return helper(x)\n"},
		{"ProseAndFence", "add", "Here's the solution:\n\n```py\ndef add(a, b):\n    return a + b\n```\n\nIt's simple: it adds.",
			"def add(a, b):\n    return a + b\n"},
		{"FenceDefiningEntryWins", "g", "```python\nprint('example')\n```\nthen\n```python\ndef g():\n    return 1\n```",
			"def g():\n    return 1\n"},
		{"UnclosedFence", "g", "```python\ndef g():\n    return 1\n", "def g():\n    return 1\n"},
		{"MainGuardDropped", "g", "def g():\n    return 1\n\nif __name__ == \"__main__\":\n    print(g())\n", "def g():\n    return 1\n"},
		{"ConstantsAndDecorators", "g", "MOD = 10**9 + 7\n@functools.lru_cache(None)\ndef g(n):\n    return n % MOD\nfor i in range(3):\n    print(g(i))\n",
			"MOD = 10**9 + 7\n@functools.lru_cache(None)\ndef g(n):\n    return n % MOD\n"},
		{"BodyContinuation", "g", "    return x + 1\n\nprint(g(1))\n\ndef other():\n    pass\n",
			"    return x + 1\n\ndef other():\n    pass\n"},
		{"StringsHideStatements", "g", "def g():\n    s = \"\"\"\nprint('not a statement')\n\"\"\"\n    t = (1,\n2)\n    return s, t\ng()\n",
			"def g():\n    s = \"\"\"\nprint('not a statement')\n\"\"\"\n    t = (1,\n2)\n    return s, t\n"},
		{"CRLF", "g", "def g():\r\n    return 1\r\nprint(g())\r\n", "def g():\n    return 1\n"},
		{"ProseNoFence", "g", "Sure! Here is the function:\ndef g():\n    return 'it''s'\nThis returns a string.\n", "def g():\n    return 'it''s'\n"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if got := codeeval.Sanitize(tt.in, tt.entry); got != tt.want {
				t.Errorf("Sanitize:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// TestSanitizeB40Runs: the sanitised B40 completion passes its test.
func TestSanitizeB40Runs(t *testing.T) {
	needSandbox(t)
	code := codeeval.Sanitize("def f(n):\n    def helper(k):\n        return k * 2\n    return helper(n) + 1\n\nprint(f(3))\n", "f")
	r := sandbox.Run(context.Background(), sandbox.Program{Code: code, Tests: []string{"assert f(3) == 7"}}, limits)
	if r.Verdict != sandbox.Passed || r.Stdout != "" {
		t.Errorf("verdict %v (%s), stdout %q; want passed with the top-level print gone", r.Verdict, r.Reason, r.Stdout)
	}
}

// TestSanitizeHumanEvalChat wraps every canonical solution the way chat
// models answer (prose, a fenced full function, a demo print, more prose);
// after Sanitize all 164 must pass again.
func TestSanitizeHumanEvalChat(t *testing.T) {
	needSandbox(t)
	var jobs []codeeval.Job
	for _, task := range loadHumanEval(t) {
		chat := fmt.Sprintf("Here's my solution:\n\n```python\n%s%s\n\nprint(%s)\n```\n\nIt's correct because it follows the docstring.",
			task.Prompt, task.CanonicalSolution, task.EntryPoint)
		code := codeeval.Sanitize(chat, task.EntryPoint)
		if strings.Contains(code, "print("+task.EntryPoint+")") || strings.Contains(code, "Here's") {
			t.Errorf("%s: sanitised code kept the demo or the prose:\n%s", task.TaskID, code)
		}
		jobs = append(jobs, codeeval.Job{TaskID: task.TaskID, Program: codeeval.HumanEvalProgram(task, "\n"+code)})
	}
	for _, o := range codeeval.RunAll(context.Background(), sandbox.Default(), jobs, limits) {
		if !o.Passed {
			t.Errorf("%s: %v (%s)\n%s", o.TaskID, o.Verdict, o.Reason, o.Stderr)
		}
	}
}

// FuzzSanitize: Sanitize never panics and always ends its output with a
// line break.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"def f():\n    return 1\nprint(f())", "```python\nx = '''\n```", "\\\n(", "@d\n", "'", "\"\"\"", "```"} {
		f.Add(s, "f")
	}
	f.Fuzz(func(t *testing.T, s, entry string) {
		if out := codeeval.Sanitize(s, entry); len(out) == 0 || out[len(out)-1] != '\n' {
			t.Errorf("Sanitize(%q) = %q", s, out)
		}
	})
}
