package bridge_test

import (
	"context"
	"testing"

	"github.com/wmss/wmss/bridge"
	"github.com/wmss/wmss/evaluators/benchmarks"
	"github.com/wmss/wmss/evaluators/evalrun"
	"github.com/wmss/wmss/evaluators/mathgrade"
)

var _ evalrun.Generator = bridge.Generator{}
var _ mathgrade.Symbolic = bridge.Symbolic{}

func TestSymbolic(t *testing.T) {
	s := bridge.Symbolic{IP: ip}
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{`\frac{x^2-1}{x-1}`, `x+1`, true},
		{`\sin^2 x + \cos^2 x`, `1`, true},
		{`x^2`, `2x`, false},
	} {
		got, err := s.Equal(context.Background(), tc.a, tc.b)
		if err != nil || got != tc.want {
			t.Errorf("Equal(%q, %q) = %v, %v; want %v", tc.a, tc.b, got, err, tc.want)
		}
	}
}

func TestGenerator_TinyModel(t *testing.T) {
	dir := t.TempDir()
	if _, err := ip.Call(context.Background(), "init_model", map[string]any{"out": dir, "size": "tiny", "seed": 1}); err != nil {
		t.Fatal(err)
	}
	g := bridge.Generator{IP: ip}
	req := evalrun.GenRequest{ModelDir: dir, N: 2, MaxNewTokens: 4, Temperature: 0,
		Prompts: []benchmarks.Prompt{
			{Messages: []benchmarks.Message{{Role: "user", Content: "1+1?"}}},
			{Messages: []benchmarks.Message{{Role: "user", Content: "Say hi."}}},
		}}
	out, err := g.GenerateChat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || len(out[0]) != 2 || len(out[1]) != 2 {
		t.Fatalf("shape = %d×?, want 2×2: %+v", len(out), out)
	}
	for i := range out {
		if out[i][0] != out[i][1] {
			t.Errorf("greedy samples of prompt %d differ: %+v", i, out[i])
		}
		if c := out[i][0]; c.CompletionTokens < 1 || c.CompletionTokens > 4 || c.PromptTokens < 3 || c.FinishReason == "" {
			t.Errorf("completion %d = %+v", i, c)
		}
	}
}
