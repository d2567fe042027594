package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/term"

	"github.com/wmss/wmss/internal/demo"
)

// runDemo is `wmss demo`: the client side of the README's main job (see
// package demo and scripts/demo.sh, which starts and stops the server).
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wmss demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg demo.Config
	fs.StringVar(&cfg.Server, "server", "http://127.0.0.1:18080", "base URL of a running wmss serve")
	fs.StringVar(&cfg.DataDir, "data-dir", "", "that server's --data-dir (the pretraining corpus is written there)")
	fs.StringVar(&cfg.BenchDir, "bench-data", findBenchDir(), "benchmark data directory (../shared/data)")
	fs.StringVar(&cfg.OutDir, "out", "out/demo", "where table.txt, outcome.json and report.html are written")
	fs.IntVar(&cfg.TrainSamples, "train", 0, "GSM8K-train samples for SFT and WMSS (default 1000)")
	fs.IntVar(&cfg.CorpusDocs, "corpus", 0, "GSM8K-train documents for pretraining (default 6000)")
	fs.IntVar(&cfg.EvalLimit, "eval-limit", 0, "GSM8K-test and SVAMP items per model (default 100)")
	fs.IntVar(&cfg.MaxNewTokens, "max-new-tokens", 0, "generation budget in evaluation (default 256)")
	fs.StringVar(&cfg.Size, "size", "", "model size: tiny (default) or small")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if cfg.DataDir == "" || cfg.BenchDir == "" {
		fmt.Fprintln(stderr, "wmss demo: --data-dir and --bench-data are required")
		return 2
	}
	cfg.Token = os.Getenv("WMSS_TOKEN")
	cfg.Stdout = stdout
	if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		cfg.Terminal = true
	}
	out, err := demo.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "wmss demo:", err)
		return 1
	}
	if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
		fmt.Fprintln(stderr, "wmss demo:", err)
		return 1
	}
	demo.WriteTable(stdout, out, cfg)
	tf, err := os.Create(filepath.Join(cfg.OutDir, "table.txt"))
	if err == nil {
		demo.WriteTable(tf, out, cfg)
		tf.Close()
	}
	if err := os.WriteFile(filepath.Join(cfg.OutDir, "report.html"), out.Report, 0o644); err != nil {
		fmt.Fprintln(stderr, "wmss demo:", err)
		return 1
	}
	fmt.Fprintf(stdout, "\nReport: %s (also served at %s/v1/jobs/%s/report?baseline=%s)\n",
		filepath.Join(cfg.OutDir, "report.html"), cfg.Server, out.WMSS.ID, out.Baseline.ID)
	b, _ := json.MarshalIndent(out, "", "  ")
	if err := os.WriteFile(filepath.Join(cfg.OutDir, "outcome.json"), b, 0o644); err != nil {
		fmt.Fprintln(stderr, "wmss demo:", err)
		return 1
	}
	return 0
}
