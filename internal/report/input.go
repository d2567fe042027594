package report

import (
	"fmt"
	"math"
	"time"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/training"
)

// Input is everything one report shows. Zero-valued fields are shown as
// unknown ("—"), never guessed; empty slices give an empty chart with a
// "no data" note.
type Input struct {
	Title     string    // page title, e.g. "WMSS vs SFT on GSM8K (tiny model)"
	Generated time.Time // when the numbers were produced; shown in UTC
	Machine   string    // e.g. "Debian bookworm, 2 CPU cores, 24 GiB, no GPU"
	Model     Model
	Data      Data
	Budget    Budget
	Seed      uint64 // the seed of data order, initialisation and resampling

	// Runs are the training runs to compare, e.g. "SFT baseline" and
	// "WMSS", in legend order. Run i is drawn in Palette[i].
	Runs []Run
	// Curriculum is the WMSS selection artifact (one record per training
	// sample, as training.Selection.WriteJSONL writes it).
	Curriculum []training.SelectionRecord
	Eval       EvalTable
	// Notes are free-text paragraphs (plain text, HTML-escaped on output)
	// shown under "Honesty notes", after the notes the report adds itself.
	Notes []string
}

// Model describes the trained model.
type Model struct {
	SizeName     string // e.g. "tiny"
	Parameters   int64  // number of parameters (weights), 0 if unknown
	Architecture string // e.g. "Qwen3-style decoder, 4 layers, d_model 128, 4 heads, vocab 2048"
}

// Data gives the data sizes.
type Data struct {
	TrainSamples   int         // samples of the SFT / WMSS training set (|D|)
	PretrainTokens int64       // tokens M0 was pretrained on, 0 if unknown or none
	HeldoutSamples int         // samples of the held-out loss set, 0 if none
	EvalSlices     []EvalSlice // one per benchmark evaluated
}

// EvalSlice is the part of one benchmark that was evaluated.
type EvalSlice struct {
	Benchmark string // key matching EvalColumn.Benchmark, e.g. "gsm8k", "svamp"
	Name      string // shown name, e.g. "GSM8K test, first 200"
	Problems  int    // problems evaluated (n of each accuracy)
}

// Budget is the training budget of the comparison (wmss-method.md,
// "Budget used for the comparison"): SFT baseline 2 epochs, WMSS 1 SFT epoch
// plus 1 joint epoch. Steps are optimizer steps; 0 means unknown.
type Budget struct {
	BaselineEpochs  int // SFT epochs of the baseline, normally 2
	BaselineSteps   int // optimizer steps of the baseline
	WMSSSFTEpochs   int // SFT epochs of WMSS phase 1, normally 1
	WMSSSFTSteps    int // optimizer steps of WMSS phase 1
	WMSSJointEpochs int // joint epochs of WMSS phase 3, normally 1
	WMSSJointSteps  int // optimizer steps of WMSS phase 3
	GlobalBatch     int // samples per optimizer step, 0 if unknown
	MaxLength       int // tokens per sample at most, 0 if unknown
}

// Run is one training run and its per-step metrics.
type Run struct {
	Name string // legend name, e.g. "SFT baseline", "WMSS"; unique, non-empty
	// Metrics are the job's metric records in any order. Phases are laid
	// out on the x axis in order of first appearance, each phase's steps
	// (1-based per phase) following the previous phase's last step; phases
	// named "heldout.*" are evaluations, listed in the run table and not
	// plotted. Values used: loss (nats/token), lr, lambda, grad_norm,
	// tokens_per_s, supervised_tokens, logit_gap (logits), target_logit,
	// mean_nontarget_logit, negative_mass_strong, negative_mass_mixed,
	// hard_negative_mass_mixed, hard_negative_mass_strong (probabilities).
	// Non-finite values are skipped and counted.
	Metrics []wmss.Metric
}

// MetricKind says how an evaluation column is read.
type MetricKind string

// Metric kinds of an evaluation column.
const (
	// Accuracy is a fraction of problems solved in [0, 1], shown in
	// percent with a 95% Wilson interval; higher is better.
	Accuracy MetricKind = "accuracy"
	// Loss is a held-out completion loss in nats per supervised token;
	// lower is better.
	Loss MetricKind = "loss"
)

// Role says which model of the comparison an evaluation row is.
type Role string

// Roles of evaluation rows (wmss-method.md, "Pipeline").
const (
	RoleBase     Role = "base"         // M0, the pretrained base and WMSS's weak model
	RoleM1       Role = "m1"           // M1, after the first SFT epoch
	RoleBaseline Role = "sft_baseline" // the SFT baseline, 2 epochs
	RoleWMSS     Role = "wmss"         // the WMSS model (the extracted strong branch)
)

// EvalTable is the evaluation table: one row per model, one column per
// benchmark score.
type EvalTable struct {
	Columns []EvalColumn // DefaultColumns if nil
	Rows    []EvalRow
}

// EvalColumn is one column of the evaluation table.
type EvalColumn struct {
	Key       string     // key of EvalRow.Values, unique, non-empty
	Label     string     // header, e.g. "GSM8K strict"
	Benchmark string     // EvalSlice.Benchmark this column was measured on ("" for none)
	Kind      MetricKind // Accuracy or Loss
}

// EvalRow is one model's scores.
type EvalRow struct {
	Model string // shown name, e.g. "M0 (base)"
	Role  Role   // which model of the comparison, "" for another one
	// Values maps EvalColumn.Key to the score: a fraction in [0, 1] for
	// Accuracy columns, nats per token for Loss columns. A missing key is a
	// missing cell; a non-finite value is shown as missing and counted.
	Values map[string]float64
}

// DefaultColumns returns the columns of the issue-7 comparison: GSM8K
// strict and flexible accuracy, SVAMP accuracy, held-out completion loss.
func DefaultColumns() []EvalColumn {
	return []EvalColumn{
		{Key: "gsm8k_strict", Label: "GSM8K strict", Benchmark: "gsm8k", Kind: Accuracy},
		{Key: "gsm8k_flexible", Label: "GSM8K flexible", Benchmark: "gsm8k", Kind: Accuracy},
		{Key: "svamp", Label: "SVAMP", Benchmark: "svamp", Kind: Accuracy},
		{Key: "heldout_loss", Label: "held-out loss", Benchmark: "heldout", Kind: Loss},
	}
}

// Validate reports the first malformed field of in as an EINVALID
// *wmss.Error naming it (e.g. "runs[1].name", "eval.rows[0].values.svamp").
// Non-finite metric values, entropies and cells are not errors: the report
// skips and counts them.
func (in *Input) Validate() error {
	seen := map[string]bool{}
	for i, r := range in.Runs {
		f := fmt.Sprintf("runs[%d].name", i)
		if r.Name == "" {
			return wmss.FieldErrorf(f, "a run needs a name")
		}
		if seen[r.Name] {
			return wmss.FieldErrorf(f, "duplicate run name %q", r.Name)
		}
		seen[r.Name] = true
		for j, m := range r.Metrics {
			if m.Phase == "" {
				return wmss.FieldErrorf(fmt.Sprintf("runs[%d].metrics[%d].phase", i, j), "a metric needs a phase")
			}
			if m.Step < 0 {
				return wmss.FieldErrorf(fmt.Sprintf("runs[%d].metrics[%d].step", i, j), "step %d is negative", m.Step)
			}
		}
	}
	for i, r := range in.Curriculum {
		if r.Weight < 0 || math.IsNaN(r.Weight) || math.IsInf(r.Weight, 0) {
			return wmss.FieldErrorf(fmt.Sprintf("curriculum[%d].weight", i), "weight %v is not a finite non-negative number", r.Weight)
		}
		if r.Draws < 0 {
			return wmss.FieldErrorf(fmt.Sprintf("curriculum[%d].draws", i), "draws %d is negative", r.Draws)
		}
	}
	cols := in.Eval.columns()
	byKey := map[string]EvalColumn{}
	for i, c := range cols {
		f := fmt.Sprintf("eval.columns[%d]", i)
		if c.Key == "" {
			return wmss.FieldErrorf(f+".key", "a column needs a key")
		}
		if _, dup := byKey[c.Key]; dup {
			return wmss.FieldErrorf(f+".key", "duplicate column key %q", c.Key)
		}
		if c.Kind != Accuracy && c.Kind != Loss {
			return wmss.FieldErrorf(f+".kind", "unknown kind %q (want %q or %q)", c.Kind, Accuracy, Loss)
		}
		byKey[c.Key] = c
	}
	for i, r := range in.Eval.Rows {
		if r.Model == "" {
			return wmss.FieldErrorf(fmt.Sprintf("eval.rows[%d].model", i), "a row needs a model name")
		}
		for k, v := range r.Values {
			f := fmt.Sprintf("eval.rows[%d].values.%s", i, k)
			c, ok := byKey[k]
			if !ok {
				return wmss.FieldErrorf(f, "no column has key %q", k)
			}
			if c.Kind == Accuracy && finite(v) && (v < 0 || v > 1) {
				return wmss.FieldErrorf(f, "accuracy %v is outside [0, 1] (give a fraction, not a percentage)", v)
			}
			if c.Kind == Loss && finite(v) && v < 0 {
				return wmss.FieldErrorf(f, "loss %v is negative", v)
			}
		}
	}
	return nil
}

func (t EvalTable) columns() []EvalColumn {
	if t.Columns == nil {
		return DefaultColumns()
	}
	return t.Columns
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
