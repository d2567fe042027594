// Package ciout writes the reports of an evaluation run for CI systems and
// applies its gates: results.json (per-benchmark scores, counts, pass@k,
// mean@n, generation settings, model hash, dataset sha256, code version),
// items.jsonl (one record per scored sample) and junit.xml (one testcase
// per benchmark, a failure for each failed gate). It reads an earlier
// results.json with the items.jsonl beside it as a baseline; the gates
// are score minimums (--min) and a paired comparison with that baseline
// (package paired). docs/eval.md describes the formats.
package ciout

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/evaluators/evalrun"
)

// Schema identifies the results.json format; a reader refuses other values.
const Schema = "wmss.eval.results/v1"

// File names inside an output directory.
const (
	ResultsFile = "results.json"
	ItemsFile   = "items.jsonl"
	JUnitFile   = "junit.xml"
)

// Generation is how completions were sampled.
type Generation struct {
	Samples     int     `json:"samples"` // n per problem
	K           []int   `json:"k"`       // the pass@k values computed
	Seed        uint64  `json:"seed"`
	Temperature float64 `json:"temperature"` // 0: greedy
	TopP        float64 `json:"top_p"`
	TopK        int     `json:"top_k"` // 0: all tokens
	// MaxNewTokens is the budget per sample: at top level the requested
	// value (0: each benchmark's default), per benchmark the one used.
	MaxNewTokens int  `json:"max_new_tokens"`
	Thinking     bool `json:"thinking"`
	BatchSize    int  `json:"batch_size"`
	Limit        int  `json:"limit"` // first Limit problems per benchmark; 0: all
}

// Benchmark is one benchmark's entry in results.json: evalrun's summary
// (name, kind, problems, samples, score, pass_at_k, strict, flexible,
// verdicts, errors, max_new_tokens, completion_tokens, dataset_file,
// dataset_sha256, seconds) with the counts, mean@n, the settings and the
// gate outcomes beside it, so that each entry stands on its own.
type Benchmark struct {
	evalrun.BenchmarkResult
	// Scored counts samples with a verdict of the model's (Problems ×
	// Samples − Errors); Correct those of them judged correct. Score is
	// Correct / Scored.
	Scored  int `json:"scored"`
	Correct int `json:"correct"`
	// MeanAtN repeats Score under its name, e.g. {"mean@4": 0.31}.
	MeanAtN     map[string]float64 `json:"mean_at_n"`
	Generation  Generation         `json:"generation"`
	ModelHash   string             `json:"model_hash"`
	CodeVersion string             `json:"code_version"`
	// Gates lists the gate outcomes of this benchmark; Passed is false
	// when one of them failed.
	Gates  []Gate `json:"gates"`
	Passed bool   `json:"passed"`
}

// Results is the content of results.json.
type Results struct {
	Schema      string      `json:"schema"`
	CodeVersion string      `json:"code_version"`
	Model       string      `json:"model"`      // the model directory as given
	ModelHash   string      `json:"model_hash"` // evalrun.ModelHash
	Generation  Generation  `json:"generation"`
	Benchmarks  []Benchmark `json:"benchmarks"`
	// MathAverage is the paper's 7-set math average, when all seven ran.
	MathAverage *float64  `json:"math_average,omitempty"`
	StartedAt   time.Time `json:"started_at"`
	Seconds     float64   `json:"seconds"`
	// Passed is false when a gate of some benchmark failed.
	Passed bool `json:"passed"`
}

// New builds the report of an evalrun.Run from its results and items,
// with no gates applied yet (every benchmark Passed).
func New(r *evalrun.Results, items []evalrun.Item, codeVersion string) *Results {
	gen := generation(r.Config)
	out := &Results{
		Schema: Schema, CodeVersion: codeVersion, Model: r.Config.ModelDir, ModelHash: r.ModelHash,
		Generation: gen, MathAverage: r.MathAverage, StartedAt: r.StartedAt, Seconds: r.Seconds, Passed: true,
	}
	type count struct{ scored, correct int }
	counts := map[string]*count{}
	for _, it := range items {
		c := counts[it.Benchmark]
		if c == nil {
			c = &count{}
			counts[it.Benchmark] = c
		}
		if Scored(it) {
			c.scored++
			if it.Correct {
				c.correct++
			}
		}
	}
	for _, br := range r.Benchmarks {
		b := Benchmark{BenchmarkResult: br, Generation: gen, ModelHash: r.ModelHash, CodeVersion: codeVersion,
			MeanAtN: map[string]float64{fmt.Sprintf("mean@%d", br.Samples): br.Score}, Gates: []Gate{}, Passed: true}
		b.Generation.MaxNewTokens = br.MaxNewTokens
		if c := counts[br.Name]; c != nil {
			b.Scored, b.Correct = c.scored, c.correct
		}
		out.Benchmarks = append(out.Benchmarks, b)
	}
	return out
}

func generation(c evalrun.Config) Generation {
	return Generation{Samples: c.Samples, K: c.K, Seed: c.Seed, Temperature: c.Temperature, TopP: c.TopP,
		TopK: c.TopK, MaxNewTokens: c.MaxNewTokens, Thinking: c.Thinking, BatchSize: c.BatchSize, Limit: c.Limit}
}

// Scored reports whether an item's verdict is the model's (anything but a
// grader or sandbox fault), as evalrun counts it.
func Scored(it evalrun.Item) bool { return it.Verdict != "error" && it.Verdict != "sandbox_error" }

// Benchmark returns the entry named name, or nil.
func (r *Results) Benchmark(name string) *Benchmark {
	for i := range r.Benchmarks {
		if r.Benchmarks[i].Name == name {
			return &r.Benchmarks[i]
		}
	}
	return nil
}

// CodeVersion returns the version of the running binary: override when
// set (a -ldflags -X value), else the VCS revision recorded by the Go
// toolchain (runtime/debug.ReadBuildInfo, "vcs.revision", with "-dirty"
// when "vcs.modified" is true), else the main module's version, else
// "unknown" (as in `go test` binaries, which carry no VCS data).
func CodeVersion(override string) string {
	if override != "" {
		return override
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" {
		if modified == "true" {
			rev += "-dirty"
		}
		return rev
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	return "unknown"
}

// WriteResults writes r as indented JSON to dir/results.json, through a
// temporary file renamed into place.
func WriteResults(dir string, r *Results) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, ResultsFile), append(b, '\n'))
}

// ReadResults reads a results.json written by WriteResults. A file that is
// not valid JSON or has another schema is an EINVALID error naming it; a
// missing file is ENOTFOUND.
func ReadResults(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, wmss.Errorf(wmss.ENOTFOUND, "results file %s not found", path)
		}
		return nil, err
	}
	var r Results
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&r); err != nil {
		return nil, wmss.FieldErrorf(path, "not a results.json: %v", err)
	}
	if r.Schema != Schema {
		return nil, wmss.FieldErrorf(path, "schema %q, want %q", r.Schema, Schema)
	}
	return &r, nil
}

// writeFile writes b to path atomically: a temporary file in the same
// directory, synced, then renamed over path.
func writeFile(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
