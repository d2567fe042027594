package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/wmss/wmss/bridge"
)

// runInitModel is `wmss init-model`: write a seeded random-init Qwen3-style
// model of a named size in HF layout (config.json, model.safetensors,
// generation_config.json, tokenizer.json, tokenizer_config.json) with the
// engine's init_model. Exit codes: 0 written, 1 engine error, 2 usage.
func runInitModel(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wmss init-model", flag.ContinueOnError)
	fs.SetOutput(stderr)
	size := fs.String("size", "tiny", "model size: tiny (≈1.2M parameters) or small (≈12.7M)")
	out := fs.String("out", "", "output directory (must not exist or be empty)")
	seed := fs.Uint64("seed", 0, "weight-initialisation seed (same seed, same bytes)")
	tok := fs.String("tokenizer", "", "directory with tokenizer.json and tokenizer_config.json to use")
	corpus := fs.String("bpe-corpus", "", "train a byte-level BPE on this UTF-8 text file (documents separated by blank lines)")
	vocab := fs.Int("bpe-vocab", 2048, "ids of the BPE trained with --bpe-corpus, special tokens included")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *out == "" {
		fmt.Fprintln(stderr, "wmss init-model: --out is required")
		return 2
	}
	if entries, err := os.ReadDir(*out); err == nil && len(entries) > 0 {
		fmt.Fprintf(stderr, "wmss init-model: --out %s is not empty\n", *out)
		return 2
	}
	if *tok != "" && *corpus != "" {
		fmt.Fprintln(stderr, "wmss init-model: give --tokenizer or --bpe-corpus, not both")
		return 2
	}
	ip, err := bridge.Start(bridge.Options{})
	if err != nil {
		fmt.Fprintln(stderr, "wmss init-model:", err)
		return 1
	}
	a := map[string]any{"out": *out, "size": *size, "seed": *seed}
	if *tok != "" {
		a["tokenizer_dir"] = *tok
	}
	if *corpus != "" {
		a["bpe_corpus"], a["bpe_vocab_size"] = *corpus, *vocab
	}
	res, err := bridge.CallInto[struct {
		Path          string `json:"path"`
		NumParameters int64  `json:"num_parameters"`
		Config        struct {
			VocabSize int `json:"vocab_size"`
			Layers    int `json:"num_hidden_layers"`
			Hidden    int `json:"hidden_size"`
		} `json:"config"`
	}](ctx, ip, "init_model", a)
	if err != nil {
		fmt.Fprintln(stderr, "wmss init-model:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s: %s Qwen3-style model, %d parameters, %d layers, hidden %d, vocab %d\n",
		*out, *size, res.NumParameters, res.Config.Layers, res.Config.Hidden, res.Config.VocabSize)
	return 0
}
