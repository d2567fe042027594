package benchmarks

import (
	"strings"
)

// Message is one chat turn, as the engine's chat template takes it.
type Message struct {
	Role    string `json:"role"` // "system", "user" or "assistant"
	Content string `json:"content"`
}

// Prompt is what the engine needs to generate for one item.
type Prompt struct {
	Messages []Message `json:"messages"`
	// Thinking is passed to the chat template as enable_thinking (Qwen3):
	// false makes the template close an empty <think></think> block so the
	// model answers directly.
	Thinking     bool `json:"thinking"`
	MaxNewTokens int  `json:"max_new_tokens"`
}

// Instructions appended to the question. The math one is the usual
// step-by-step \boxed{} instruction, so answers can be extracted from the
// last \boxed{} (docs/wmss-method.md: "final answer taken from the last
// \boxed{} first").
const (
	MathInstruction   = `Please reason step by step, and put your final answer within \boxed{}.`
	ChoiceInstruction = `Please reason step by step, and put the letter of the correct option (A, B, C, D or E) within \boxed{}.`
	CodeInstruction   = "Write the Python code in a single ```python code block."
)

// BuildPrompt returns the chat prompt for one item of b: a single user turn
// holding the question and the benchmark kind's instruction, with thinking
// on or off and b's generation budget. HumanEval asks the model to complete
// the given function; MBPP lists the three asserts the code must pass, as in
// the MBPP paper's prompt.
func BuildPrompt(b *Benchmark, it Item, thinking bool) Prompt {
	var content string
	switch b.Kind {
	case KindChoice:
		content = it.Question + "\n" + ChoiceInstruction
	case KindCode:
		if it.EntryPoint != "" { // HumanEval
			content = "Complete the following Python function.\n```python\n" + it.Question + "```\n" + CodeInstruction
		} else { // MBPP
			content = it.Question + "\nYour code should pass these tests:\n" + strings.Join(it.TestList, "\n") + "\n" + CodeInstruction
		}
	default:
		content = it.Question + "\n" + MathInstruction
	}
	return Prompt{
		Messages:     []Message{{Role: "user", Content: content}},
		Thinking:     thinking,
		MaxNewTokens: b.MaxNewTokens,
	}
}
