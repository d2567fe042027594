package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInitModel(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "m")
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"init-model", "--size", "tiny", "--seed", "7", "--out", dir}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, f := range []string{"config.json", "model.safetensors", "generation_config.json", "tokenizer.json", "tokenizer_config.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s missing: %v", f, err)
		}
	}
	var cfg struct {
		ModelType string `json:"model_type"`
		Vocab     int    `json:"vocab_size"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	if json.Unmarshal(b, &cfg) != nil || cfg.ModelType != "qwen3" || cfg.Vocab%64 != 0 {
		t.Errorf("config.json = %s", b)
	}
	if !strings.Contains(out.String(), "parameters") {
		t.Errorf("stdout = %q", out.String())
	}
	// Same seed, same bytes.
	dir2 := filepath.Join(t.TempDir(), "m")
	if code := run(ctx, []string{"init-model", "--seed", "7", "--out", dir2}, &out, &errb); code != 0 {
		t.Fatal(errb.String())
	}
	a, _ := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	c, _ := os.ReadFile(filepath.Join(dir2, "model.safetensors"))
	if !bytes.Equal(a, c) {
		t.Error("same seed gave different weights")
	}
	for _, bad := range [][]string{{"init-model"}, {"init-model", "--out", dir}, {"init-model", "--out", dir2 + "x", "--tokenizer", "t", "--bpe-corpus", "c"}} {
		errb.Reset()
		if code := run(ctx, bad, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", bad, code, errb.String())
		}
	}
	errb.Reset()
	if code := run(ctx, []string{"init-model", "--size", "huge", "--out", filepath.Join(t.TempDir(), "h")}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "huge") {
		t.Errorf("unknown size: exit %d, %s", code, errb.String())
	}
}
