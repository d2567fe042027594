package bridge

import (
	"context"
	"errors"
	"time"

	"github.com/wmss/wmss/evaluators/evalrun"
)

// Generator implements evalrun.Generator with the engine's
// wmss_engine.evalgen.generate_chat.
type Generator struct{ IP *Interpreter }

// GenerateChat sends req to generate_chat and returns its completions,
// [len(req.Prompts)][req.N].
func (g Generator) GenerateChat(ctx context.Context, req evalrun.GenRequest) ([][]evalrun.Completion, error) {
	type prompt struct {
		Messages any  `json:"messages"`
		Thinking bool `json:"thinking"`
	}
	ps := make([]prompt, len(req.Prompts))
	for i, p := range req.Prompts {
		ps[i] = prompt{Messages: p.Messages, Thinking: p.Thinking}
	}
	args := map[string]any{
		"model_dir": req.ModelDir, "prompts": ps, "n": req.N, "max_new_tokens": req.MaxNewTokens,
		"temperature": req.Temperature, "top_p": req.TopP, "top_k": req.TopK, "seed": req.Seed,
	}
	if req.BatchSize > 0 { // else the engine's default
		args["batch_size"] = req.BatchSize
	}
	out, err := CallInto[struct {
		Completions [][]evalrun.Completion `json:"completions"`
	}](ctx, g.IP, "wmss_engine.evalgen:generate_chat", args)
	return out.Completions, err
}

// Symbolic implements mathgrade.Symbolic with sympy in the engine
// (wmss_engine.mathsym.sym_equal). A Python failure or timeout is an error,
// never a false.
type Symbolic struct{ IP *Interpreter }

// Equal reports whether LaTeX answers a and b are symbolically equal, within
// ctx's deadline (default 5 s).
func (s Symbolic) Equal(ctx context.Context, a, b string) (bool, error) {
	timeout := 5.0
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl).Seconds()
		if timeout <= 0 {
			return false, context.DeadlineExceeded
		}
	}
	out, err := CallInto[struct {
		Equal *bool `json:"equal"`
	}](ctx, s.IP, "wmss_engine.mathsym:sym_equal", map[string]any{"a": a, "b": b, "timeout_s": timeout})
	if err != nil {
		return false, err
	}
	if out.Equal == nil {
		return false, errors.New("bridge: sym_equal returned no verdict")
	}
	return *out.Equal, nil
}
