// Package demo is the README's main job: through the REST API of a running
// wmss server it builds a small base model M0 (random init, BPE tokenizer
// and brief pretraining on GSM8K-train text), runs the SFT baseline (2
// epochs) and the WMSS pipeline (1 SFT epoch, entropies, selection, 1 joint
// epoch, extraction) from M0 on the same GSM8K-train subset, evaluates M0,
// M1, the baseline and the WMSS model on GSM8K-test and SVAMP slices, and
// prints a comparison table. The server does all the work; this package is
// only its client (plus writing the pretraining corpus under the data root,
// since the API takes corpora as files there).
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/evaluators/benchmarks"
	"github.com/wmss/wmss/evaluators/evalrun"
	"github.com/wmss/wmss/training"
)

// Config sizes the demo. With the defaults the whole run took 5–6 minutes
// on the 2-core development machine (docs/benchmarks.md).
type Config struct {
	Server   string // base URL, e.g. http://127.0.0.1:18080
	Token    string // bearer token, if the server wants one
	DataDir  string // the server's data root (the corpus is written under it)
	BenchDir string // ../shared/data
	OutDir   string // where the report and the table are written

	TrainSamples   int    // GSM8K-train samples for SFT and WMSS; default 1000
	CorpusDocs     int    // GSM8K-train documents (question + answer) for pretraining, disjoint from the SFT ones; default 6000
	HeldoutSamples int    // GSM8K-test samples for the held-out loss; default 200
	EvalLimit      int    // items of GSM8K-test and SVAMP evaluated per model; default 100
	Size           string // model size; default "tiny"
	BPEVocab       int    // tokenizer ids; default 2048
	MaxLength      int    // tokens per sample; default 320
	MaxNewTokens   int    // generation budget in evaluation; default 256
	Seed           uint64 // default 42

	Stdout   io.Writer
	Terminal bool // draw progress bars in place
}

func (c *Config) defaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.TrainSamples, 1000)
	def(&c.CorpusDocs, 6000)
	def(&c.HeldoutSamples, 200)
	def(&c.EvalLimit, 100)
	def(&c.BPEVocab, 2048)
	def(&c.MaxLength, 320)
	def(&c.MaxNewTokens, 256)
	if c.Size == "" {
		c.Size = "tiny"
	}
	if c.Seed == 0 {
		c.Seed = 42
	}
	if c.Stdout == nil {
		c.Stdout = os.Stdout
	}
}

// Outcome is what Run measured, for the table and the report.
type Outcome struct {
	Baseline, WMSS *wmss.Job
	Models         []ModelRow
	Started        time.Time
	Seconds        float64
	Report         []byte `json:"-"` // the server's HTML report of the WMSS job against the baseline
}

// ModelRow is one evaluated model.
type ModelRow struct {
	Name        string   // "M0 (base)", …
	Dir         string   // relative to the data root
	HeldoutLoss *float64 // GSM8K-test completion loss, nats/token
	EvalJob     wmss.JobID
	Results     *evalrun.Results
}

// Run executes the demo against cfg.Server.
func Run(ctx context.Context, cfg Config) (*Outcome, error) {
	cfg.defaults()
	out := &Outcome{Started: time.Now()}
	c := &client{base: strings.TrimRight(cfg.Server, "/"), token: cfg.Token, http: &http.Client{Timeout: 60 * time.Second}}
	say := func(format string, args ...any) { fmt.Fprintf(cfg.Stdout, format+"\n", args...) }
	if err := c.waitReady(ctx, 2*time.Minute); err != nil {
		return nil, err
	}

	say("== data: GSM8K-train subset, pretraining corpus, GSM8K-test held-out slice")
	train, err := benchmarks.Load(cfg.BenchDir, "gsm8k-train")
	if err != nil {
		return nil, err
	}
	test, err := benchmarks.Load(cfg.BenchDir, "gsm8k")
	if err != nil {
		return nil, err
	}
	if need := cfg.TrainSamples + cfg.CorpusDocs; need > len(train.Items) {
		return nil, fmt.Errorf("train samples + corpus docs = %d > %d GSM8K-train items", need, len(train.Items))
	}
	trainDS, err := upload(ctx, c, "gsm8k-train-demo", train.Items[:cfg.TrainSamples])
	if err != nil {
		return nil, err
	}
	heldDS, err := upload(ctx, c, "gsm8k-test-heldout", test.Items[:cfg.HeldoutSamples])
	if err != nil {
		return nil, err
	}
	corpusRel := filepath.Join("demo", "corpus.txt")
	if err := writeCorpus(filepath.Join(cfg.DataDir, corpusRel), train.Items[cfg.TrainSamples:cfg.TrainSamples+cfg.CorpusDocs]); err != nil {
		return nil, err
	}
	say("   train %s: %d samples; held-out %s: %d samples; corpus %s: %d documents",
		trainDS.ID, trainDS.Rows, heldDS.ID, heldDS.Rows, corpusRel, cfg.CorpusDocs)

	// The optimizer of both jobs: the same budget in samples per step and
	// learning rate; a tiny model from scratch needs a far larger lr than
	// the paper's 1e-5 for 4B models.
	opt := map[string]any{"lr": 1e-3, "min_lr": 1e-4, "warmup_ratio": 0.1, "schedule": "cosine",
		"global_batch": 16, "micro_batch": 8, "max_length": cfg.MaxLength, "clip": 1.0}
	data := map[string]any{"path": trainDS.Path}
	held := map[string]any{"path": heldDS.Path}
	ckpt := map[string]any{"every_steps": 50, "keep_last": 1}

	say("== job 1: SFT baseline (2 epochs) from M0 = random init + BPE + pretraining")
	baseSpec := map[string]any{
		"kind": "sft_baseline", "seed": cfg.Seed,
		"base_model": map[string]any{
			"init": map[string]any{"size": cfg.Size, "seed": cfg.Seed, "bpe_vocab": cfg.BPEVocab},
			"pretrain": map[string]any{"corpus": corpusRel, "epochs": 1,
				"optimizer": map[string]any{"lr": 3e-3, "min_lr": 3e-4, "warmup_ratio": 0.05, "schedule": "cosine",
					"global_batch": 16, "micro_batch": 16, "max_length": cfg.MaxLength, "clip": 1.0}},
		},
		"data": data, "heldout": held, "optimizer": opt, "checkpoint": ckpt,
		"sft": map[string]any{"epochs": 2},
	}
	baseline, err := runJob(ctx, c, cfg, "/v1/jobs", baseSpec)
	if err != nil {
		return out, err
	}
	out.Baseline = baseline
	m0 := filepath.Join("jobs", string(baseline.ID), "models", "m0")

	say("== job 2: WMSS from the same M0 (1 SFT epoch -> entropies -> selection -> 1 joint epoch -> extraction)")
	wmssSpec := map[string]any{
		"kind": "wmss", "seed": cfg.Seed,
		"base_model": map[string]any{"path": m0},
		"data":       data, "heldout": held, "optimizer": opt, "checkpoint": ckpt,
		"sft": map[string]any{"epochs": 1}, "joint": map[string]any{"epochs": 1, "lambda": 0.5},
	}
	w, err := runJob(ctx, c, cfg, "/v1/jobs", wmssSpec)
	if err != nil {
		return out, err
	}
	out.WMSS = w

	bsum, wsum := training.SummaryOf(baseline), training.SummaryOf(w)
	out.Models = []ModelRow{
		{Name: "M0 (base)", Dir: m0, HeldoutLoss: bsum.HeldoutLoss("pretrain")},
		{Name: "M1 (WMSS phase 1, SFT 1 epoch)", Dir: filepath.Join("jobs", string(w.ID), "models", "m1"), HeldoutLoss: wsum.HeldoutLoss("sft")},
		{Name: "SFT baseline (2 epochs)", Dir: filepath.Join("jobs", string(baseline.ID), "model"), HeldoutLoss: bsum.HeldoutLoss("sft")},
		{Name: "WMSS (1 SFT + 1 joint epoch)", Dir: filepath.Join("jobs", string(w.ID), "model"), HeldoutLoss: wsum.HeldoutLoss("joint")},
	}
	for i := range out.Models {
		m := &out.Models[i]
		say("== evaluation %d/%d: %s on GSM8K-test[:%d] and SVAMP[:%d]", i+1, len(out.Models), m.Name, cfg.EvalLimit, cfg.EvalLimit)
		spec := map[string]any{"model": m.Dir, "benchmarks": []string{"gsm8k", "svamp"}, "limit": cfg.EvalLimit,
			"generation": map[string]any{"max_new_tokens": cfg.MaxNewTokens, "temperature": 0, "samples": 1, "seed": cfg.Seed}}
		j, err := runJob(ctx, c, cfg, "/v1/evals", spec)
		if err != nil {
			return out, err
		}
		m.EvalJob = j.ID
		var res evalrun.Results
		if err := c.do(ctx, http.MethodGet, "/v1/evals/"+string(j.ID)+"/summary", nil, &res); err != nil {
			return out, err
		}
		m.Results = &res
	}
	out.Seconds = time.Since(out.Started).Seconds()
	say("== report: GET /v1/jobs/%s/report?baseline=%s", w.ID, baseline.ID)
	if err := c.do(ctx, http.MethodGet, "/v1/jobs/"+string(w.ID)+"/report?baseline="+string(baseline.ID), nil, &out.Report); err != nil {
		return out, err
	}
	return out, nil
}

type dataset struct {
	ID   string `json:"id"`
	Path string `json:"path"`
	Rows int    `json:"rows"`
}

// upload sends items as prompt/completion JSONL (question -> worked answer).
func upload(ctx context.Context, c *client, name string, items []benchmarks.Item) (*dataset, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	for _, it := range items {
		if err := enc.Encode(map[string]string{"prompt": it.Question, "completion": it.Answer}); err != nil {
			return nil, err
		}
	}
	var ds dataset
	err := c.do(ctx, http.MethodPost, "/v1/datasets?name="+name, []byte(b.String()), &ds)
	return &ds, err
}

// writeCorpus writes one document per item (question, then answer),
// separated by blank lines, as the engine's corpus reader expects.
func writeCorpus(path string, items []benchmarks.Item) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var b strings.Builder
	for _, it := range items {
		fmt.Fprintf(&b, "%s\n%s\n\n", strings.TrimSpace(it.Question), strings.ReplaceAll(strings.TrimSpace(it.Answer), "\n\n", "\n"))
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// runJob creates a job at route with spec and follows it to its end with a
// progress bar; a job that does not succeed is an error carrying its reason.
func runJob(ctx context.Context, c *client, cfg Config, route string, spec any) (*wmss.Job, error) {
	var j wmss.Job
	if err := c.do(ctx, http.MethodPost, route, spec, &j); err != nil {
		return nil, err
	}
	bar := newBar(cfg.Stdout, cfg.Terminal)
	for {
		if err := c.do(ctx, http.MethodGet, route+"/"+string(j.ID), nil, &j); err != nil {
			return nil, err
		}
		bar.update(&j)
		if j.State.Terminal() {
			bar.done(&j)
			if j.State != wmss.StateSucceeded {
				return &j, fmt.Errorf("job %s %s: %s", j.ID, j.State, j.Error)
			}
			return &j, nil
		}
		select {
		case <-ctx.Done():
			_ = c.do(context.Background(), http.MethodPost, "/v1/jobs/"+string(j.ID)+"/cancel", nil, nil)
			return &j, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
