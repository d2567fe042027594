// Package evalrun evaluates a model on benchmarks: it builds each item's
// chat prompt, has the engine generate n samples per problem with a seed,
// scores every sample (math answers with mathgrade, multiple choice by
// letter, programs in the code sandbox), and summarises per benchmark:
// mean@n, pass@k, verdict counts, GSM8K strict and flexible accuracy, and
// the paper's 7-set math average. Evaluation jobs, `wmss eval` and the demo
// all run through Run.
package evalrun

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/evaluators/benchmarks"
	"github.com/wmss/wmss/evaluators/mathgrade"
	"github.com/wmss/wmss/evaluators/passk"
)

// Generator produces completions for chat prompts; the bridge implements it
// with wmss_engine.evalgen.generate_chat.
type Generator interface {
	GenerateChat(ctx context.Context, req GenRequest) ([][]Completion, error)
}

// GenRequest asks for N completions of each prompt.
type GenRequest struct {
	ModelDir     string              `json:"model_dir"`
	Prompts      []benchmarks.Prompt `json:"prompts"`
	N            int                 `json:"n"`
	MaxNewTokens int                 `json:"max_new_tokens"`
	Temperature  float64             `json:"temperature"` // 0: greedy
	TopP         float64             `json:"top_p"`
	TopK         int                 `json:"top_k"`
	Seed         uint64              `json:"seed"`
	BatchSize    int                 `json:"batch_size"`
}

// Completion is one generated sample.
type Completion struct {
	Text             string `json:"text"`
	CompletionTokens int    `json:"completion_tokens"`
	PromptTokens     int    `json:"prompt_tokens"`
	FinishReason     string `json:"finish_reason"` // "stop", "length", "eos"
}

// CodeScorer runs a completion against a code item's tests.
type CodeScorer interface {
	// ScoreCode returns the sandbox verdict ("passed", "failed", "timeout",
	// "memory_limit", "runtime_error" or "sandbox_error") and the code run.
	ScoreCode(ctx context.Context, it benchmarks.Item, completion string) (verdict, program string)
}

// Config selects what to evaluate and how to generate.
type Config struct {
	DataDir      string   `json:"-"`
	ModelDir     string   `json:"model"`
	Benchmarks   []string `json:"benchmarks"`
	Limit        int      `json:"limit"`   // first Limit problems per benchmark; 0 = all
	Samples      int      `json:"samples"` // n per problem; default 1
	K            []int    `json:"k"`       // pass@k values; default [1]; each ≤ Samples
	Seed         uint64   `json:"seed"`
	Temperature  float64  `json:"temperature"`
	TopP         float64  `json:"top_p"`
	TopK         int      `json:"top_k"`
	MaxNewTokens int      `json:"max_new_tokens"` // 0: each benchmark's budget
	Thinking     bool     `json:"thinking"`
	BatchSize    int      `json:"batch_size"` // default 8
}

// Validate checks c and fills defaults. Errors are EINVALID naming the field.
func (c *Config) Validate() error {
	if c.ModelDir == "" {
		return wmss.FieldErrorf("model", "required")
	}
	if len(c.Benchmarks) == 0 {
		return wmss.FieldErrorf("benchmarks", "name at least one of %v", benchmarks.Names())
	}
	for i, b := range c.Benchmarks {
		if !slices.Contains(benchmarks.Names(), b) {
			return wmss.FieldErrorf(fmt.Sprintf("benchmarks[%d]", i), "unknown benchmark %q (want one of %v)", b, benchmarks.Names())
		}
	}
	if c.Samples == 0 {
		c.Samples = 1
	}
	if c.Samples < 1 {
		return wmss.FieldErrorf("samples", "want ≥ 1, got %d", c.Samples)
	}
	if len(c.K) == 0 {
		c.K = []int{1}
	}
	for i, k := range c.K {
		if k < 1 || k > c.Samples {
			return wmss.FieldErrorf(fmt.Sprintf("k[%d]", i), "pass@%d needs 1 ≤ k ≤ samples (%d)", k, c.Samples)
		}
	}
	if c.Limit < 0 {
		return wmss.FieldErrorf("limit", "want ≥ 0, got %d", c.Limit)
	}
	if c.Temperature < 0 {
		return wmss.FieldErrorf("temperature", "want ≥ 0, got %v", c.Temperature)
	}
	if c.TopP == 0 {
		c.TopP = 1
	}
	if c.TopP < 0 || c.TopP > 1 {
		return wmss.FieldErrorf("top_p", "want in (0, 1], got %v", c.TopP)
	}
	if c.MaxNewTokens < 0 {
		return wmss.FieldErrorf("max_new_tokens", "want ≥ 0, got %d", c.MaxNewTokens)
	}
	if c.BatchSize == 0 {
		c.BatchSize = 8
	}
	return nil
}

// Item is the record of one scored sample.
type Item struct {
	Benchmark        string  `json:"benchmark"`
	ID               string  `json:"id"`
	Sample           int     `json:"sample"`
	Prompt           string  `json:"prompt"` // the user turn
	Output           string  `json:"output"`
	Gold             string  `json:"gold"`
	Extracted        string  `json:"extracted,omitempty"`
	Verdict          string  `json:"verdict"`
	Correct          bool    `json:"correct"`
	Strict           *bool   `json:"strict,omitempty"`   // GSM8K only
	Flexible         *bool   `json:"flexible,omitempty"` // GSM8K only
	Error            string  `json:"error,omitempty"`
	CompletionTokens int     `json:"completion_tokens"`
	FinishReason     string  `json:"finish_reason"`
	TimeMS           float64 `json:"time_ms"` // generation share plus scoring time
}

// BenchmarkResult summarises one benchmark.
type BenchmarkResult struct {
	Name     string             `json:"name"`
	Kind     string             `json:"kind"`
	Problems int                `json:"problems"`
	Samples  int                `json:"samples"` // n per problem
	Score    float64            `json:"score"`   // mean@n over scored samples
	PassAtK  map[string]float64 `json:"pass_at_k"`
	// Strict and Flexible are GSM8K's two accuracies (mean@n).
	Strict   *float64       `json:"strict,omitempty"`
	Flexible *float64       `json:"flexible,omitempty"`
	Verdicts map[string]int `json:"verdicts"`
	// Errors counts samples the grader or sandbox could not score; they are
	// left out of Score and pass@k, never counted as wrong.
	Errors           int     `json:"errors"`
	MaxNewTokens     int     `json:"max_new_tokens"`
	CompletionTokens int     `json:"completion_tokens"` // total generated
	DatasetFile      string  `json:"dataset_file"`
	DatasetSHA256    string  `json:"dataset_sha256"`
	Seconds          float64 `json:"seconds"`
}

// Results is the outcome of Run.
type Results struct {
	Config     Config            `json:"config"`
	ModelHash  string            `json:"model_hash"` // sha256 of config.json and the weight files
	Benchmarks []BenchmarkResult `json:"benchmarks"`
	// MathAverage is the unweighted mean score of the paper's seven math
	// sets, present only when all seven were evaluated.
	MathAverage *float64  `json:"math_average,omitempty"`
	StartedAt   time.Time `json:"started_at"`
	Seconds     float64   `json:"seconds"`
}

// Deps are the engine-side pieces Run needs.
type Deps struct {
	Gen      Generator
	Code     CodeScorer         // required for humaneval and mbpp
	Symbolic mathgrade.Symbolic // optional symbolic equivalence
	// Progress, when set, is called after each benchmark's generation and
	// after each scored sample with (benchmark, done, total) samples.
	Progress func(benchmark string, done, total int)
}

// Run evaluates cfg.ModelDir on cfg.Benchmarks. It returns the summary and
// every item record; a generation failure aborts with its error, while a
// scoring fault only marks that sample "error".
func Run(ctx context.Context, cfg Config, d Deps) (*Results, []Item, error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	start := time.Now()
	hash, err := ModelHash(cfg.ModelDir)
	if err != nil {
		return nil, nil, err
	}
	res := &Results{Config: cfg, ModelHash: hash, StartedAt: start.UTC()}
	var items []Item
	for _, name := range cfg.Benchmarks {
		b, err := benchmarks.Load(cfg.DataDir, name)
		if err != nil {
			return nil, nil, err
		}
		if b.Kind == benchmarks.KindCode && d.Code == nil {
			return nil, nil, wmss.Errorf(wmss.EUNAVAILABLE, "benchmark %s needs the code sandbox", name)
		}
		br, its, err := runBenchmark(ctx, cfg, d, b)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		res.Benchmarks = append(res.Benchmarks, br)
		items = append(items, its...)
	}
	res.MathAverage = mathAverage(res.Benchmarks)
	res.Seconds = time.Since(start).Seconds()
	return res, items, nil
}

func runBenchmark(ctx context.Context, cfg Config, d Deps, b *benchmarks.Benchmark) (BenchmarkResult, []Item, error) {
	start := time.Now()
	probs := b.Items
	if cfg.Limit > 0 && cfg.Limit < len(probs) {
		probs = probs[:cfg.Limit]
	}
	budget := b.MaxNewTokens
	if cfg.MaxNewTokens > 0 {
		budget = cfg.MaxNewTokens
	}
	prompts := make([]benchmarks.Prompt, len(probs))
	for i, it := range probs {
		prompts[i] = benchmarks.BuildPrompt(b, it, cfg.Thinking)
		prompts[i].MaxNewTokens = budget
	}
	total := len(probs) * cfg.Samples
	genStart := time.Now()
	comps, err := d.Gen.GenerateChat(ctx, GenRequest{
		ModelDir: cfg.ModelDir, Prompts: prompts, N: cfg.Samples, MaxNewTokens: budget,
		Temperature: cfg.Temperature, TopP: cfg.TopP, TopK: cfg.TopK, Seed: cfg.Seed, BatchSize: cfg.BatchSize,
	})
	if err != nil {
		return BenchmarkResult{}, nil, err
	}
	if len(comps) != len(probs) {
		return BenchmarkResult{}, nil, fmt.Errorf("engine returned %d completion lists for %d prompts", len(comps), len(probs))
	}
	genMS := float64(time.Since(genStart).Microseconds()) / 1000 / float64(max(total, 1))
	if d.Progress != nil {
		d.Progress(b.Name, 0, total)
	}
	br := BenchmarkResult{
		Name: b.Name, Kind: string(b.Kind), Problems: len(probs), Samples: cfg.Samples,
		PassAtK: map[string]float64{}, Verdicts: map[string]int{}, MaxNewTokens: budget,
		DatasetFile: b.File, DatasetSHA256: b.SHA256,
	}
	var items []Item
	var scored, correct, strictOK, flexOK int
	pk := make([]passk.Problem, 0, len(probs))
	for i, it := range probs {
		if len(comps[i]) != cfg.Samples {
			return br, nil, fmt.Errorf("engine returned %d samples for %s, want %d", len(comps[i]), it.ID, cfg.Samples)
		}
		var p passk.Problem
		for j, c := range comps[i] {
			if err := ctx.Err(); err != nil {
				return br, nil, err
			}
			t0 := time.Now()
			rec := Item{
				Benchmark: b.Name, ID: it.ID, Sample: j, Prompt: prompts[i].Messages[len(prompts[i].Messages)-1].Content,
				Output: c.Text, Gold: it.Answer, CompletionTokens: c.CompletionTokens, FinishReason: c.FinishReason,
			}
			scoreOne(ctx, d, b, it, &rec)
			rec.TimeMS = genMS + float64(time.Since(t0).Microseconds())/1000
			br.Verdicts[rec.Verdict]++
			br.CompletionTokens += c.CompletionTokens
			if isError(rec.Verdict) {
				br.Errors++
			} else {
				scored++
				p.N++
				if rec.Correct {
					correct++
					p.C++
				}
				if rec.Strict != nil && *rec.Strict {
					strictOK++
				}
				if rec.Flexible != nil && *rec.Flexible {
					flexOK++
				}
			}
			items = append(items, rec)
			if d.Progress != nil {
				d.Progress(b.Name, len(items), total)
			}
		}
		if p.N > 0 {
			pk = append(pk, p)
		}
	}
	if scored > 0 {
		br.Score = float64(correct) / float64(scored)
		if b.StrictFlexible {
			s, f := float64(strictOK)/float64(scored), float64(flexOK)/float64(scored)
			br.Strict, br.Flexible = &s, &f
		}
	}
	for _, k := range cfg.K {
		v, ok, err := passk.PassAtKScored(pk, k)
		if err != nil {
			return br, nil, err
		}
		if ok {
			br.PassAtK["pass@"+strconv.Itoa(k)] = v
		}
	}
	br.Seconds = time.Since(start).Seconds()
	return br, items, nil
}

// isError reports whether a verdict is a fault of ours rather than the model's.
func isError(v string) bool { return v == string(mathgrade.VerdictError) || v == "sandbox_error" }

func scoreOne(ctx context.Context, d Deps, b *benchmarks.Benchmark, it benchmarks.Item, rec *Item) {
	switch b.Kind {
	case benchmarks.KindCode:
		v, _ := d.Code.ScoreCode(ctx, it, rec.Output)
		rec.Verdict, rec.Correct = v, v == "passed"
	default:
		opts := mathgrade.Options{Choice: b.Kind == benchmarks.KindChoice, Symbolic: d.Symbolic}
		r := mathgrade.Grade(ctx, it.Answer, rec.Output, opts)
		rec.Verdict, rec.Correct, rec.Extracted, rec.Error = string(r.Verdict), r.Correct(), r.Answer, r.Err
		if b.StrictFlexible {
			s, f := mathgrade.GradeStrictFlexible(ctx, it.Answer, rec.Output, opts)
			sc, fc := s.Correct(), f.Correct()
			rec.Strict, rec.Flexible = &sc, &fc
		}
	}
}

func mathAverage(rs []BenchmarkResult) *float64 {
	sum, n := 0.0, 0
	for _, name := range benchmarks.MathAverage {
		for _, r := range rs {
			if r.Name == name {
				sum += r.Score
				n++
			}
		}
	}
	if n != len(benchmarks.MathAverage) {
		return nil
	}
	avg := sum / float64(n)
	return &avg
}

// ModelHash returns the hex sha256 over a model directory's config.json and
// weight files (*.safetensors, in name order), each prefixed by its name.
func ModelHash(dir string) (string, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	if err != nil {
		return "", err
	}
	slices.Sort(names)
	names = append([]string{filepath.Join(dir, "config.json")}, names...)
	h := sha256.New()
	for _, n := range names {
		f, err := os.Open(n)
		if err != nil {
			return "", &wmss.Error{Code: wmss.EINVALID, Field: "model", Message: fmt.Sprintf("model directory %s: %v", dir, err)}
		}
		fmt.Fprintf(h, "%s\n", filepath.Base(n))
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
