package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/evaluators/ciout"
	"github.com/wmss/wmss/evaluators/evalrun"
	"github.com/wmss/wmss/evaluators/paired"
)

const compareUsage = `usage: wmss compare [flags] A/results.json B/results.json

Compares run B with run A on the problems both scored, per benchmark: the
score difference B − A with a paired bootstrap confidence interval, the
discordant problems, and McNemar's exact test (pass/fail problems) or a
paired permutation test (mean@n with n > 1). Each results.json needs its
items.jsonl beside it; a directory stands for the results.json inside.
Exit status: 0 compared, 1 B is significantly worse somewhere (only with
--fail-on-drop), 2 usage or input error, 3 internal error.

flags:
`

// runCompare is `wmss compare`; it returns the process exit code.
func runCompare(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wmss compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, compareUsage); fs.PrintDefaults() }
	alpha := fs.Float64("alpha", paired.DefaultAlpha, "two-sided significance level; the interval has level 1−alpha")
	resamples := fs.Int("resamples", paired.DefaultResamples, "bootstrap and permutation resamples")
	seed := fs.Uint64("seed", 0, "resampling seed")
	asJSON := fs.Bool("json", false, "print the comparison as JSON instead of a table")
	failOnDrop := fs.Bool("fail-on-drop", false, "exit 1 when B is significantly below A on a benchmark")
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitPass
		}
		return exitUsage
	}
	if len(paths) != 2 {
		fmt.Fprintf(stderr, "wmss compare: want two results.json paths (A and B), got %d\n", len(paths))
		fs.Usage()
		return exitUsage
	}
	switch {
	case !(*alpha > 0 && *alpha < 1):
		fmt.Fprintf(stderr, "wmss compare: --alpha: want a level in (0, 1), got %v\n", *alpha)
		return exitUsage
	case *resamples < 100:
		fmt.Fprintf(stderr, "wmss compare: --resamples: want ≥ 100, got %d\n", *resamples)
		return exitUsage
	}
	opts := paired.Options{Alpha: *alpha, Resamples: *resamples, Seed: *seed}
	var runs [2]*ciout.Results
	var items [2][]evalrun.Item
	for i, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			p = filepath.Join(p, ciout.ResultsFile)
			paths[i] = p
		}
		if runs[i], err = ciout.ReadResults(p); err != nil {
			fmt.Fprintln(stderr, "wmss compare:", err)
			return exitUsage
		}
		if items[i], err = ciout.ReadItems(filepath.Join(filepath.Dir(p), ciout.ItemsFile)); err != nil {
			fmt.Fprintln(stderr, "wmss compare:", err)
			return exitUsage
		}
	}
	rows, err := ciout.CompareRuns(runs[0], items[0], runs[1], items[1], opts)
	if err != nil {
		fmt.Fprintln(stderr, "wmss compare:", err)
		if wmss.ErrorCode(err) == wmss.EINVALID {
			return exitUsage
		}
		return exitInternal
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			A    string      `json:"a"`
			B    string      `json:"b"`
			Rows []ciout.Row `json:"benchmarks"`
		}{paths[0], paths[1], rows}); err != nil {
			fmt.Fprintln(stderr, "wmss compare:", err)
			return exitInternal
		}
	} else {
		printComparison(stdout, paths[0], paths[1], rows, opts)
	}
	if *failOnDrop {
		for _, r := range rows {
			if r.Comparison != nil && r.Comparison.Verdict == paired.VerdictWorse {
				return exitGate
			}
		}
	}
	return exitPass
}

// parseInterspersed parses flags that may come before, between or after
// the positional arguments (the flag package stops at the first
// positional one), and returns the positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// printComparison writes the comparison table and its notes.
func printComparison(w io.Writer, a, b string, rows []ciout.Row, opts paired.Options) {
	fmt.Fprintf(w, "A: %s\nB: %s\n\n", a, b)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "benchmark\tn\tscore A\tscore B\tΔ (B−A)\t%g%% CI\tA only\tB only\ttest\tp\tverdict\n", 100*(1-opts.Alpha))
	for _, r := range rows {
		c := r.Comparison
		if c == nil {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t-\t-\tonly in %s\n", r.Benchmark, map[string]string{"A": "B", "B": "A"}[r.Missing])
			continue
		}
		test := "mcnemar"
		if c.Test == paired.TestPermutation {
			test = "permutation"
		}
		fmt.Fprintf(tw, "%s\t%d\t%.4f\t%.4f\t%+.4f\t[%+.4f, %+.4f]\t%d\t%d\t%s\t%.3g\t%s\n",
			r.Benchmark, c.N, c.ScoreA, c.ScoreB, c.Delta, c.CILow, c.CIHigh, c.OnlyA, c.OnlyB, test, c.PValue, c.Verdict)
	}
	tw.Flush()
	for _, r := range rows {
		for _, n := range r.Notes {
			fmt.Fprintf(w, "note: %s: %s\n", r.Benchmark, n)
		}
	}
}
