package report

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/evaluators/evalrun"
	"github.com/wmss/wmss/internal/datastore"
	"github.com/wmss/wmss/training"
)

// Source reads the stored jobs a report is built from.
type Source struct {
	Store   wmss.JobStore
	DataDir string // the server's data root (absolute)
	Machine string // shown in the report, e.g. "2 CPU cores, no GPU, torch 1.13.1"
}

// Build assembles the report of a WMSS job, compared with an SFT baseline
// job when baseline is not "": both runs' metrics, the WMSS job's
// curriculum (selection.jsonl), and an evaluation table whose rows are M0,
// M1, the baseline and the WMSS model, each filled from the newest
// succeeded evaluation job of that model directory and from the held-out
// losses in the training summaries. It returns ENOTFOUND for an unknown
// job and EINVALID when the jobs are not a wmss and an sft_baseline job.
func (s Source) Build(ctx context.Context, id, baseline wmss.JobID) (*Input, error) {
	w, err := s.Store.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	if w.Kind != wmss.KindWMSS {
		return nil, wmss.FieldErrorf("id", "job %s is a %s job; the report is of a wmss job", id, w.Kind)
	}
	wspec, err := training.DecodeSpec(w.Spec)
	if err != nil {
		return nil, err
	}
	wsum := training.SummaryOf(w)
	in := &Input{
		Title:     "WMSS vs SFT baseline",
		Generated: time.Now().UTC(),
		Machine:   s.Machine,
		Seed:      wspec.Seed,
		Notes: []string{
			"Every number on this page was measured by this wmss server on the jobs named below; nothing is copied from the paper except the paper's own results, marked as such.",
			"Accuracies on slices of a few dozen to a few hundred problems have wide confidence intervals; a difference inside them is noise.",
		},
	}
	jobDir := func(j wmss.JobID, rel ...string) string {
		return filepath.Join(append([]string{s.DataDir, "jobs", string(j)}, rel...)...)
	}

	var b *wmss.Job
	var bspec *training.Spec
	var bsum *training.Summary
	if baseline != "" {
		if b, err = s.Store.GetJob(ctx, baseline); err != nil {
			if wmss.ErrorCode(err) == wmss.ENOTFOUND {
				return nil, &wmss.Error{Code: wmss.ENOTFOUND, Field: "baseline", Message: fmt.Sprintf("no job %s", baseline)}
			}
			return nil, err
		}
		if b.Kind != wmss.KindSFTBaseline {
			return nil, wmss.FieldErrorf("baseline", "job %s is a %s job, not an sft_baseline job", baseline, b.Kind)
		}
		if bspec, err = training.DecodeSpec(b.Spec); err != nil {
			return nil, err
		}
		bsum = training.SummaryOf(b)
		ms, err := s.Store.ListMetrics(ctx, b.ID, "")
		if err != nil {
			return nil, err
		}
		// M0's pretraining is shared by both runs (the WMSS job starts
		// from the baseline's M0), so it is left out of the curves, which
		// then start together at the first SFT step.
		var kept []wmss.Metric
		pre := 0
		for _, m := range ms {
			if m.Phase == training.PhasePretrain {
				pre++
				continue
			}
			kept = append(kept, m)
		}
		if pre > 0 {
			in.Notes = append(in.Notes, fmt.Sprintf("M0 was pretrained for %d optimizer steps inside the baseline job %s; both runs start from it, and those steps are not plotted.", pre, b.ID))
		}
		in.Runs = append(in.Runs, Run{Name: "SFT baseline", Metrics: kept})
		in.Title = fmt.Sprintf("WMSS (%s) vs SFT baseline (%s)", id, baseline)
	}
	ms, err := s.Store.ListMetrics(ctx, w.ID, "")
	if err != nil {
		return nil, err
	}
	in.Runs = append(in.Runs, Run{Name: "WMSS", Metrics: ms})

	if f, err := os.Open(jobDir(w.ID, "selection.jsonl")); err == nil {
		in.Curriculum, err = training.ReadSelectionJSONL(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("selection.jsonl of %s: %w", w.ID, err)
		}
	}

	// Model and data.
	final := jobDir(w.ID, training.ModelDirName)
	in.Model = describeModel(final)
	if bspec != nil && bspec.BaseModel.Init != nil {
		in.Model.SizeName = bspec.BaseModel.Init.Size
	} else if wspec.BaseModel.Init != nil {
		in.Model.SizeName = wspec.BaseModel.Init.Size
	}
	if wsum != nil {
		in.Data.TrainSamples = wsum.Data.Kept
	}
	if bsum != nil && bsum.Corpus != nil {
		in.Data.PretrainTokens = int64(bsum.Corpus.Tokens)
		if p := bspec.BaseModel.Pretrain; p != nil && p.Epochs != nil {
			in.Data.PretrainTokens *= int64(*p.Epochs)
		}
	}
	if wspec.Heldout != nil {
		in.Data.HeldoutSamples = countLines(wspec.Heldout.Path, wspec.Heldout.Limit)
	}
	in.Budget = Budget{WMSSSFTEpochs: deref(wspec.SFT.Epochs), WMSSJointEpochs: deref(wspec.Joint.Epochs),
		WMSSSFTSteps: phaseSteps(wsum, "sft"), WMSSJointSteps: phaseSteps(wsum, "joint"),
		GlobalBatch: wspec.Optimizer.GlobalBatch, MaxLength: wspec.Optimizer.MaxLength}
	if bspec != nil {
		in.Budget.BaselineEpochs, in.Budget.BaselineSteps = deref(bspec.SFT.Epochs), phaseSteps(bsum, "sft")
	}

	// Evaluation rows: M0, M1, baseline, WMSS.
	m0 := wspec.BaseModel.Path
	if m0 == "" {
		m0 = jobDir(w.ID, "models", "m0")
	}
	type row struct {
		name, dir string
		role      Role
		heldout   *float64
	}
	rows := []row{
		{"M0 (base)", m0, RoleBase, nil},
		{"M1 (after WMSS phase 1, SFT)", jobDir(w.ID, "models", "m1"), RoleM1, wsum.HeldoutLoss("sft")},
	}
	if b != nil {
		if same(m0, jobDir(b.ID, "models", "m0")) {
			rows[0].heldout = bsum.HeldoutLoss("pretrain")
		}
		rows = append(rows, row{"SFT baseline (" + phaseLength(bspec.SFT) + ")", jobDir(b.ID, training.ModelDirName), RoleBaseline, bsum.HeldoutLoss("sft")})
	}
	rows = append(rows, row{"WMSS (" + phaseLength(wspec.SFT) + " SFT + " + phaseLength(wspec.Joint.Phase()) + " joint)", final, RoleWMSS, wsum.HeldoutLoss("joint")})
	evals, err := s.evalResults(ctx)
	if err != nil {
		return nil, err
	}
	slices := map[string]int{}
	for _, r := range rows {
		er := EvalRow{Model: r.name, Role: r.role, Values: map[string]float64{}}
		if r.heldout != nil {
			er.Values["heldout_loss"] = *r.heldout
		}
		if res := evals[clean(r.dir)]; res != nil {
			for _, br := range res.Benchmarks {
				switch br.Name {
				case "gsm8k":
					if br.Strict != nil {
						er.Values["gsm8k_strict"] = *br.Strict
					}
					if br.Flexible != nil {
						er.Values["gsm8k_flexible"] = *br.Flexible
					}
				case "svamp":
					er.Values["svamp"] = br.Score
				}
				slices[br.Name] = max(slices[br.Name], br.Problems*br.Samples)
			}
		}
		in.Eval.Rows = append(in.Eval.Rows, er)
	}
	for _, name := range []string{"gsm8k", "svamp"} {
		if n := slices[name]; n > 0 {
			label := map[string]string{"gsm8k": "GSM8K test", "svamp": "SVAMP"}[name]
			in.Data.EvalSlices = append(in.Data.EvalSlices, EvalSlice{Benchmark: name, Name: fmt.Sprintf("%s, first %d", label, n), Problems: n})
		}
	}
	if in.Data.HeldoutSamples > 0 {
		in.Data.EvalSlices = append(in.Data.EvalSlices, EvalSlice{Benchmark: "heldout", Name: fmt.Sprintf("held-out completion loss, %d samples", in.Data.HeldoutSamples), Problems: in.Data.HeldoutSamples})
	}
	return in, nil
}

// evalResults maps each evaluated model directory to the results of its
// newest succeeded evaluation job.
func (s Source) evalResults(ctx context.Context) (map[string]*evalrun.Results, error) {
	out := map[string]*evalrun.Results{}
	var cursor wmss.JobID
	for {
		jobs, next, err := s.Store.ListJobs(ctx, wmss.JobFilter{Kind: wmss.KindEval, State: wmss.StateSucceeded, After: cursor, Limit: 500})
		if err != nil {
			return nil, err
		}
		for _, j := range jobs { // newest first: keep the first seen
			var spec struct{ Model string }
			var res evalrun.Results
			if json.Unmarshal(j.Spec, &spec) != nil || json.Unmarshal(j.Summary, &res) != nil {
				continue
			}
			if _, ok := out[clean(spec.Model)]; !ok {
				out[clean(spec.Model)] = &res
			}
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// phaseLength describes a phase's length as the spec set it: "2 epochs",
// "1 epoch" or "3 steps".
func phaseLength(p training.PhaseSpec) string {
	switch {
	case p.Steps != nil:
		return fmt.Sprintf("%d steps", *p.Steps)
	case p.Epochs != nil && *p.Epochs == 1:
		return "1 epoch"
	case p.Epochs != nil:
		return fmt.Sprintf("%d epochs", *p.Epochs)
	}
	return "default length"
}

func phaseSteps(s *training.Summary, phase string) int {
	if p := s.Phase(phase); p != nil {
		return p.Steps
	}
	return 0
}

// describeModel reads config.json of an HF model directory.
func describeModel(dir string) Model {
	var c struct {
		ModelType string `json:"model_type"`
		Layers    int    `json:"num_hidden_layers"`
		Hidden    int    `json:"hidden_size"`
		Heads     int    `json:"num_attention_heads"`
		KVHeads   int    `json:"num_key_value_heads"`
		Vocab     int    `json:"vocab_size"`
		Intermed  int    `json:"intermediate_size"`
		TieEmbed  bool   `json:"tie_word_embeddings"`
		HeadDim   int    `json:"head_dim"`
	}
	m := Model{}
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil || json.Unmarshal(b, &c) != nil {
		return m
	}
	m.Architecture = fmt.Sprintf("%s decoder, %d layers, hidden %d, %d query / %d key-value heads, MLP %d, vocab %d",
		strings.ToUpper(c.ModelType[:1])+c.ModelType[1:], c.Layers, c.Hidden, c.Heads, c.KVHeads, c.Intermed, c.Vocab)
	if n, err := datastore.SafetensorsParameters(filepath.Join(dir, "model.safetensors"), c.TieEmbed); err == nil {
		m.Parameters = n
	}
	return m
}

func countLines(path string, limit int) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) != "" {
			n++
		}
	}
	if limit > 0 && limit < n {
		return limit
	}
	return n
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func clean(p string) string { return filepath.Clean(p) }

func same(a, b string) bool { return clean(a) == clean(b) }
