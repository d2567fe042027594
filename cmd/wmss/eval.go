package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/bridge"
	"github.com/wmss/wmss/evaluators/benchmarks"
	"github.com/wmss/wmss/evaluators/ciout"
	"github.com/wmss/wmss/evaluators/evalrun"
	"github.com/wmss/wmss/evaluators/paired"
	"github.com/wmss/wmss/evaluators/sandbox"
)

// Exit codes of `wmss eval` and `wmss compare` (docs/eval.md).
const (
	exitPass     = 0 // every gate passed
	exitGate     = 1 // a gate failed
	exitUsage    = 2 // bad flags or input: unknown benchmark, missing model or data, unreadable baseline
	exitInternal = 3 // the run itself failed: engine, generation, writing the reports
)

// version is the code version recorded in results.json; set it with
// -ldflags "-X main.version=…", else the VCS revision of the build is used.
var version string

const evalUsage = `usage: wmss eval --model DIR --benchmarks gsm8k,svamp,... --out DIR [flags]
       wmss eval --server URL --model ID|DIR --benchmarks gsm8k,... --out DIR [flags]

Evaluates a model in-process with the code evaluation jobs use (or, with
--server, as an evaluation job on a running wmss server; the bearer token
is $WMSS_TOKEN), writes results.json, items.jsonl and junit.xml to --out,
and applies the gates. Exit status: 0 all gates passed, 1 a gate failed,
2 usage or input error, 3 internal error. See docs/eval.md.

flags:
`

// evalFlags are the parsed flags of `wmss eval`.
type evalFlags struct {
	cfg       evalrun.Config
	out       string
	mins      []ciout.Min
	baseline  string
	alpha     float64
	resamples int
	server    string
	idemKey   string
	progress  string
	// set holds the names of the flags given on the command line.
	set map[string]bool
}

// localOnlyFlags are the flags an evaluation job on a server cannot
// honour: its spec (api.EvalSpec) has no batch size or thinking mode, and
// the server reads its own benchmark data.
var localOnlyFlags = []string{"batch-size", "thinking", "data-dir"}

func parseEvalFlags(args []string, stderr io.Writer) (*evalFlags, error) {
	f := &evalFlags{}
	fs := flag.NewFlagSet("wmss eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, evalUsage); fs.PrintDefaults() }
	var names, ks, min string
	fs.StringVar(&f.cfg.ModelDir, "model", "", "model directory in HF layout (config.json, *.safetensors, tokenizer); with --server a model id (mdl_…) or a directory under the server's data root (required)")
	fs.StringVar(&names, "benchmarks", "", "comma-separated benchmarks: "+strings.Join(benchmarks.Names(), ", ")+" (required)")
	fs.StringVar(&f.out, "out", "", "directory for results.json, items.jsonl and junit.xml; created if missing (required)")
	fs.IntVar(&f.cfg.Limit, "limit", 0, "evaluate the first N problems of each benchmark; 0 = all")
	fs.IntVar(&f.cfg.Samples, "samples", 1, "completions per problem (n of mean@n and pass@k)")
	fs.StringVar(&ks, "k", "1", "comma-separated k values of pass@k, each ≤ --samples")
	fs.Uint64Var(&f.cfg.Seed, "seed", 0, "sampling seed; also seeds the baseline bootstrap")
	fs.Float64Var(&f.cfg.Temperature, "temperature", 0, "sampling temperature; 0 = greedy")
	fs.Float64Var(&f.cfg.TopP, "top-p", 1, "nucleus sampling mass in (0, 1]")
	fs.IntVar(&f.cfg.TopK, "top-k", 0, "sample from the k most likely tokens; 0 = all")
	fs.IntVar(&f.cfg.MaxNewTokens, "max-new-tokens", 0, "token budget per completion; 0 = each benchmark's (4096, 8192 for aime25 and amc23)")
	fs.BoolVar(&f.cfg.Thinking, "thinking", false, "enable the chat template's thinking mode")
	fs.IntVar(&f.cfg.BatchSize, "batch-size", 8, "prompts per generation batch")
	fs.StringVar(&f.cfg.DataDir, "data-dir", "", "benchmark data directory (default: ../shared/data beside the repository holding the working directory)")
	fs.StringVar(&min, "min", "", "score gates: BENCH=T[,BENCH:METRIC=T…], METRIC score (default), strict, flexible or pass@K; fails when below T")
	fs.StringVar(&f.baseline, "baseline", "", "earlier results.json (with its items.jsonl beside it): fail when a score drops significantly")
	fs.Float64Var(&f.alpha, "alpha", paired.DefaultAlpha, "significance level of the baseline comparison")
	fs.IntVar(&f.resamples, "resamples", paired.DefaultResamples, "bootstrap resamples of the baseline comparison")
	fs.StringVar(&f.server, "server", "", "run as an evaluation job on the wmss server at URL (e.g. http://127.0.0.1:8080) instead of in-process; token from $WMSS_TOKEN")
	fs.StringVar(&f.idemKey, "idempotency-key", "", "with --server: prefix of the job's Idempotency-Key (default: derived from the request, so a retried run reuses its job)")
	fs.StringVar(&f.progress, "progress", "auto", "progress display: auto (a bar on a terminal, lines otherwise), bar, lines or none")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, wmss.Errorf(wmss.EINVALID, "unexpected argument %q (flags only)", fs.Arg(0))
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	switch {
	case f.cfg.ModelDir == "":
		return nil, wmss.FieldErrorf("--model", "required")
	case names == "":
		return nil, wmss.FieldErrorf("--benchmarks", "required: name at least one of %s", strings.Join(benchmarks.Names(), ", "))
	case f.out == "":
		return nil, wmss.FieldErrorf("--out", "required")
	case !(f.alpha > 0 && f.alpha < 1):
		return nil, wmss.FieldErrorf("--alpha", "want a level in (0, 1), got %v", f.alpha)
	case f.resamples < 100:
		return nil, wmss.FieldErrorf("--resamples", "want ≥ 100, got %d", f.resamples)
	case !slices.Contains([]string{"auto", "bar", "lines", "none"}, f.progress):
		return nil, wmss.FieldErrorf("--progress", "want auto, bar, lines or none, got %q", f.progress)
	}
	for _, n := range strings.Split(names, ",") {
		n = strings.TrimSpace(n)
		if slices.Contains(f.cfg.Benchmarks, n) {
			return nil, wmss.FieldErrorf("--benchmarks", "%s named twice", n)
		}
		f.cfg.Benchmarks = append(f.cfg.Benchmarks, n)
	}
	f.cfg.K = nil
	for _, s := range strings.Split(ks, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return nil, wmss.FieldErrorf("--k", "%q is not an integer", s)
		}
		f.cfg.K = append(f.cfg.K, k)
	}
	var err error
	if f.mins, err = ciout.ParseMin(min); err != nil {
		return nil, flagError(err, "--min")
	}
	if f.server != "" {
		if err := checkServerFlags(f); err != nil {
			return nil, err
		}
		// The server's list of benchmarks is the one that counts (it may
		// know more than this binary): it checks the names itself, and its
		// answer names the field. The other settings are checked here.
		names := f.cfg.Benchmarks
		f.cfg.Benchmarks = benchmarks.Names()[:1]
		err := f.cfg.Validate()
		f.cfg.Benchmarks = names
		if err != nil {
			return nil, flagError(err, "")
		}
	} else {
		if f.set["idempotency-key"] {
			return nil, wmss.FieldErrorf("--idempotency-key", "only with --server")
		}
		if err := f.cfg.Validate(); err != nil {
			return nil, flagError(err, "")
		}
	}
	if err := ciout.CheckMins(f.mins, f.cfg.Benchmarks, f.cfg.K); err != nil {
		return nil, flagError(err, "--min")
	}
	return f, nil
}

// flagError renames the field of an EINVALID error to the flag that set
// it (evalrun names config fields: "top_p" is --top-p, "k[0]" is --k).
func flagError(err error, field string) error {
	var e *wmss.Error
	if !errors.As(err, &e) || e.Field == "" {
		return err
	}
	c := *e
	if field == "" {
		name, _, _ := strings.Cut(e.Field, "[")
		field = "--" + strings.ReplaceAll(name, "_", "-")
		if name == "model" || name == "benchmarks" {
			field = "--" + name
		}
		if i := strings.Index(e.Field, "["); i >= 0 {
			field += e.Field[i:]
		}
	}
	c.Field = field
	return &c
}

// runEval is `wmss eval`; it returns the process exit code.
func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, err := parseEvalFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitPass
		}
		if !isFlagPkgError(err) {
			fmt.Fprintln(stderr, "wmss eval:", err)
		}
		return exitUsage
	}
	evaluate := evalLocal
	if f.server != "" {
		evaluate = evalServer
	}
	code, err := evaluate(ctx, f, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "wmss eval:", err)
	}
	return code
}

// isFlagPkgError reports whether err came from the flag package, which
// has already printed it with the usage.
func isFlagPkgError(err error) bool {
	var e *wmss.Error
	return !errors.As(err, &e)
}

// inputError reports whether err is the caller's fault (exit 2) rather
// than the run's (exit 3).
func inputError(err error) bool {
	switch wmss.ErrorCode(err) {
	case wmss.EINVALID, wmss.ENOTFOUND:
		return true
	}
	return false
}

// evalLocal checks the inputs, runs the evaluation in this process and
// writes the reports. It returns the exit code and the error to print.
func evalLocal(ctx context.Context, f *evalFlags, stdout, stderr io.Writer) (int, error) {
	// Inputs first, so that a typo fails in milliseconds, not after the
	// engine has started.
	if _, err := os.Stat(filepath.Join(f.cfg.ModelDir, "config.json")); err != nil {
		return exitUsage, wmss.FieldErrorf("--model", "%s is not a model directory (no config.json)", f.cfg.ModelDir)
	}
	if f.cfg.DataDir == "" {
		wd, _ := os.Getwd()
		d, err := benchmarks.FindDataDir(wd)
		if err != nil {
			return exitUsage, wmss.FieldErrorf("--data-dir", "not given and not found: %v", err)
		}
		f.cfg.DataDir = d
	}
	for _, name := range f.cfg.Benchmarks {
		b, err := benchmarks.Load(f.cfg.DataDir, name)
		if err != nil {
			return exitUsage, err
		}
		if b.SHA256 != b.KnownSHA256 {
			fmt.Fprintf(stderr, "wmss eval: warning: %s: %s has sha256 %s, not the published %s\n", name, b.File, b.SHA256, b.KnownSHA256)
		}
	}
	base, baseItems, err := readBaseline(f)
	if err != nil {
		return exitUsage, err
	}
	deps := evalrun.Deps{}
	if slices.ContainsFunc(f.cfg.Benchmarks, func(n string) bool { return n == "humaneval" || n == "mbpp" }) {
		if err := sandbox.Available(); err != nil {
			return exitUsage, fmt.Errorf("--benchmarks: humaneval and mbpp need the code sandbox: %w", err)
		}
		deps.Code = codeScorer{sb: sandbox.Default()}
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return exitUsage, wmss.FieldErrorf("--out", "%v", err)
	}

	ip, err := bridge.Start(bridge.Options{})
	if err != nil {
		return exitInternal, fmt.Errorf("engine: %w", err)
	}
	prog := newProgress(f.progress, stderr)
	deps.Gen = &progressGenerator{g: bridge.Generator{IP: ip}, names: f.cfg.Benchmarks, p: prog}
	deps.Symbolic = bridge.Symbolic{IP: ip}
	deps.Progress = prog.Scored
	res, items, err := evalrun.Run(ctx, f.cfg, deps)
	prog.Close()
	if err != nil {
		if inputError(err) {
			return exitUsage, err
		}
		return exitInternal, err
	}
	return writeReports(f, res, items, base, baseItems, stdout)
}

// readBaseline reads --baseline and the items.jsonl beside it; both nil
// without the flag. Errors are the caller's (exit 2).
func readBaseline(f *evalFlags) (*ciout.Results, []evalrun.Item, error) {
	if f.baseline == "" {
		return nil, nil, nil
	}
	base, err := ciout.ReadResults(f.baseline)
	if err != nil {
		return nil, nil, flagError(err, "--baseline")
	}
	items, err := ciout.ReadItems(filepath.Join(filepath.Dir(f.baseline), ciout.ItemsFile))
	if err != nil {
		return nil, nil, fmt.Errorf("--baseline: %w", err)
	}
	return base, items, nil
}

// writeReports applies the gates to a finished run, writes the three
// reports to --out and prints the summary. It returns the exit code: the
// gates' (0 or 1), 2 for a baseline that does not match the run, 3 when a
// report cannot be written or a benchmark had no scorable sample.
func writeReports(f *evalFlags, res *evalrun.Results, items []evalrun.Item, base *ciout.Results, baseItems []evalrun.Item, stdout io.Writer) (int, error) {
	rep := ciout.New(res, items, ciout.CodeVersion(version))
	ciout.ApplyMin(rep, f.mins)
	if base != nil {
		err := ciout.ApplyBaseline(rep, items, base, baseItems, f.baseline,
			paired.Options{Alpha: f.alpha, Resamples: f.resamples, Seed: f.cfg.Seed})
		if err != nil {
			return exitUsage, fmt.Errorf("--baseline %s: %w", f.baseline, err)
		}
	}
	for _, write := range []func() error{
		func() error { return ciout.WriteItems(f.out, items) },
		func() error { return ciout.WriteResults(f.out, rep) },
		func() error { return ciout.WriteJUnit(f.out, rep) },
	} {
		if err := write(); err != nil {
			return exitInternal, err
		}
	}
	printSummary(stdout, rep)
	for _, b := range rep.Benchmarks {
		if b.Scored == 0 && b.Problems > 0 {
			return exitInternal, fmt.Errorf("%s: no sample could be scored (%d grader or sandbox errors; see %s)", b.Name, b.Errors, filepath.Join(f.out, ciout.ItemsFile))
		}
	}
	if !rep.Passed {
		return exitGate, nil
	}
	return exitPass, nil
}

// printSummary writes one line per benchmark and its gates.
func printSummary(w io.Writer, r *ciout.Results) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "benchmark\tproblems\tscored\tcorrect\tscore\tpass@k\tgates")
	for _, b := range r.Benchmarks {
		var pk []string
		for _, k := range r.Generation.K {
			if v, ok := b.PassAtK["pass@"+strconv.Itoa(k)]; ok {
				pk = append(pk, fmt.Sprintf("@%d %.4f", k, v))
			}
		}
		gates := "-"
		if len(b.Gates) > 0 {
			var gs []string
			for _, g := range b.Gates {
				s := "pass"
				switch {
				case g.Skipped:
					s = "skipped"
				case !g.Passed:
					s = "FAIL"
				}
				gs = append(gs, g.Kind+" "+s)
			}
			gates = strings.Join(gs, ", ")
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.4f\t%s\t%s\n", b.Name, b.Problems, b.Scored, b.Correct, b.Score, strings.Join(pk, " "), gates)
	}
	tw.Flush()
	for _, b := range r.Benchmarks {
		for _, g := range b.Gates {
			if !g.Passed {
				fmt.Fprintln(w, "FAILED:", g.Message)
			}
		}
	}
	if r.MathAverage != nil {
		fmt.Fprintf(w, "math average (7 sets): %.4f\n", *r.MathAverage)
	}
}

// progress shows how far an evaluation is: per benchmark, generation (one
// engine call, shown as a spinner or a line) and then scoring, sample by
// sample.
type progress interface {
	// Generating starts a benchmark's generation; prompts ≤ 0 when the
	// count is not known (a job on a server).
	Generating(benchmark string, prompts, samples int)
	Scored(benchmark string, done, total int)
	Close()
}

// newProgress returns the display for mode: "bar" (progressbar on w),
// "lines" (a plain line at each tenth), "none", or "auto": a bar when w is
// a terminal, lines otherwise (CI logs).
func newProgress(mode string, w io.Writer) progress {
	if mode == "auto" {
		mode = "lines"
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			mode = "bar"
		}
	}
	switch mode {
	case "bar":
		return &barProgress{w: w}
	case "lines":
		return &lineProgress{w: w, last: map[string]int{}}
	}
	return noProgress{}
}

type noProgress struct{}

func (noProgress) Generating(string, int, int) {}
func (noProgress) Scored(string, int, int)     {}
func (noProgress) Close()                      {}

// lineProgress writes plain lines, at most eleven per benchmark.
type lineProgress struct {
	w     io.Writer
	start time.Time
	last  map[string]int // last tenth reported
}

func (p *lineProgress) Generating(b string, prompts, samples int) {
	p.start = time.Now()
	if prompts <= 0 { // remote: the server knows the count
		fmt.Fprintf(p.w, "%s: generating on the server, %d samples per problem\n", b, samples)
		return
	}
	fmt.Fprintf(p.w, "%s: generating %d problems × %d samples\n", b, prompts, samples)
}

func (p *lineProgress) Scored(b string, done, total int) {
	tenth := 0
	if total > 0 {
		tenth = done * 10 / total
	}
	if last, ok := p.last[b]; ok && tenth == last {
		return
	}
	p.last[b] = tenth
	if done == 0 {
		fmt.Fprintf(p.w, "%s: generated in %s; scoring %d samples\n", b, time.Since(p.start).Round(time.Millisecond), total)
		return
	}
	fmt.Fprintf(p.w, "%s: scored %d/%d (%s)\n", b, done, total, time.Since(p.start).Round(time.Millisecond))
}

func (p *lineProgress) Close() {}

// barProgress draws a spinner during generation and a bar while scoring.
type barProgress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (p *barProgress) finish() {
	if p.bar != nil {
		p.bar.Finish()
		fmt.Fprintln(p.w)
		p.bar = nil
	}
}

func (p *barProgress) Generating(b string, prompts, samples int) {
	p.finish()
	p.bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(generatingLabel(b, prompts, samples)),
		progressbar.OptionSpinnerType(14), progressbar.OptionSetElapsedTime(true))
	p.bar.RenderBlank()
}

func generatingLabel(b string, prompts, samples int) string {
	if prompts <= 0 {
		return fmt.Sprintf("%s: generating ?×%d", b, samples)
	}
	return fmt.Sprintf("%s: generating %d×%d", b, prompts, samples)
}

func (p *barProgress) Scored(b string, done, total int) {
	if done == 0 {
		p.finish()
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(b+": scoring"), progressbar.OptionShowCount(),
			progressbar.OptionSetElapsedTime(true), progressbar.OptionThrottle(50*time.Millisecond))
		p.bar.RenderBlank()
		return
	}
	if p.bar != nil {
		p.bar.Set(done)
	}
}

func (p *barProgress) Close() { p.finish() }

// progressGenerator reports the start of each benchmark's generation;
// evalrun.Run calls GenerateChat once per benchmark, in the order of
// Config.Benchmarks.
type progressGenerator struct {
	g     evalrun.Generator
	names []string
	i     int
	p     progress
}

func (g *progressGenerator) GenerateChat(ctx context.Context, req evalrun.GenRequest) ([][]evalrun.Completion, error) {
	name := "?"
	if g.i < len(g.names) {
		name = g.names[g.i]
	}
	g.i++
	g.p.Generating(name, len(req.Prompts), req.N)
	return g.g.GenerateChat(ctx, req)
}
