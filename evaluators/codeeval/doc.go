// Package codeeval turns HumanEval and MBPP records and a model's
// completion into sandbox programs, pulls the code out of a chat
// completion (Sanitize), and scores many programs with a per-problem
// verdict (RunAll).
//
// The harnesses follow the reference ones. HumanEval (openai/human-eval,
// execution.py) runs prompt + completion + "\n" + test + "\n" +
// "check(entry_point)"; here prompt + completion is the untrusted code and
// the test with its check call is one trusted test, so the completion
// cannot rewrite the test before it runs. MBPP (google-research mbpp,
// README) runs test_setup_code, the code, then each assert of test_list;
// here each assert is its own trusted test with its own pass marker.
// Verdicts are those of package sandbox; a sandbox_error is never the
// program's.
package codeeval
