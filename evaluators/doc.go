// Package evaluators groups the scoring side of wmss. It holds no code of its
// own; each subpackage has one job:
//
//   - mathgrade extracts a final answer from a model's output and decides
//     whether it equals the gold answer (equal, not_equal, no_answer, error).
//   - benchmarks loads the shipped math and code test sets (../shared/data),
//     builds chat prompts and gives each benchmark's generation budget.
//   - passk estimates pass@k and mean@n from per-problem sample counts.
//   - sandbox and codeeval run generated programs in isolation and score them.
//
// A fault of the grader (a panic, a timeout, a sandbox failure) is always
// reported as its own verdict and never counted as a wrong answer.
package evaluators
