package training

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/wmss/wmss"
)

// JobKind names what a pipeline spec trains. Stored in job records: never
// rename one.
type JobKind string

// Job kinds.
const (
	// KindWMSS runs Algorithm 1: SFT, selection, joint training (K rounds),
	// extraction of the strong model (wmss-method.md, "Pipeline").
	KindWMSS JobKind = "wmss"
	// KindSFTBaseline runs SFT only, with the same budget as WMSS's default
	// (2 epochs = 1 SFT + 1 joint epoch), as every WMSS number's control.
	KindSFTBaseline JobKind = "sft_baseline"
)

// Weak-model modes in joint training (wmss-method.md, "Options").
const (
	WeakTrained = "trained" // AdamW updates both models (default; the paper's algorithm and code)
	WeakFrozen  = "frozen"  // weak model under no-grad, bit-identical after training
)

// Loss positions in joint training (wmss-method.md, "Options").
const (
	LossCompletion = "completion" // supervised (completion / assistant) tokens only (default)
	LossFull       = "full"       // every token, as the authors' code does in phase 3
)

// Data formats of DataSpec.Format.
const (
	FormatJSONL = "jsonl" // ReadJSONL: messages, or prompt/completion
	FormatGSM8K = "gsm8k" // ReadGSM8K: question → answer
	FormatMAWPS = "mawps" // ReadMAWPS: the authors' MAWPS train.json
)

// InitSizes are the model sizes the engine can create (bridge/wmss_engine
// checkpoint.SIZES: tiny ≈ 1.2M, small ≈ 12.6M non-embedding parameters).
var InitSizes = []string{"tiny", "small"}

// Benchmarks are the evaluation sets a spec may name; their data sit under
// ../shared/data (see its README).
var Benchmarks = []string{"gsm8k", "math500", "aime25", "amc23", "aqua", "mawps", "svamp", "humaneval", "mbpp"}

// Phase names, as used by EvaluationSpec.After.
const (
	PhaseBase     = "base"     // the model the job starts from (after pretraining, if any)
	PhasePretrain = "pretrain" // after the optional pretraining stage
	PhaseSFT      = "sft"      // after phase 1 (the whole job for sft_baseline)
	PhaseJoint    = "joint"    // after each round of joint training (phase 3), on the extracted strong model
)

// Spec is a training pipeline: the JSON document a job is created from (the
// API accepts the same). DecodeSpec reads one and fills in the defaults of
// DefaultSpec; every field is documented with its unit and default.
type Spec struct {
	Kind      JobKind       `json:"kind"`       // "wmss" (default) or "sft_baseline"
	Seed      uint64        `json:"seed"`       // seeds data order and, unless set there, selection; default 42
	BaseModel BaseModelSpec `json:"base_model"` // required: a path, or init (+ optional pretrain)
	Data      DataSpec      `json:"data"`       // required: the training set
	SFT       PhaseSpec     `json:"sft"`        // phase 1; default 1 epoch (wmss), 2 epochs (sft_baseline)
	Selection SelectionSpec `json:"selection"`  // phase 2 (wmss only)
	Joint     JointSpec     `json:"joint"`      // phase 3 (wmss only)
	// Rounds is K of Algorithm 1, ≥ 1: round t uses weak = M_{t−1},
	// strong = M_t. Default 1 (the paper's results). wmss only.
	Rounds     int             `json:"rounds"`
	Optimizer  OptimizerSpec   `json:"optimizer"`            // SFT and joint training
	Checkpoint CheckpointSpec  `json:"checkpoint"`           // cadence and retention
	Evaluation *EvaluationSpec `json:"evaluation,omitempty"` // optional evaluation after phases
	// Heldout, when set, is a held-out set (read like Data) whose completion
	// loss in nats/token is measured on the model after every phase and
	// stored as the metric "heldout.<phase>". It overrides the runner's.
	Heldout *DataSpec `json:"heldout,omitempty"`
}

// BaseModelSpec names the model M0: exactly one of Path (an HF-layout model
// directory) and Init (a seeded random init, since no pretrained weights are
// reachable here). Pretrain is only allowed with Init.
type BaseModelSpec struct {
	Path     string        `json:"path,omitempty"`
	Init     *InitSpec     `json:"init,omitempty"`
	Pretrain *PretrainSpec `json:"pretrain,omitempty"`
}

// InitSpec asks the engine for a random-init model.
type InitSpec struct {
	Size string `json:"size"` // one of InitSizes; default "tiny"
	Seed uint64 `json:"seed"` // weight init seed; default 0
	// Tokenizer is a directory holding tokenizer.json (and
	// tokenizer_config.json); empty means the engine's byte-level tokenizer.
	Tokenizer string `json:"tokenizer,omitempty"`
	// BPEVocab, when set, trains a byte-level BPE tokenizer of that many
	// ids (special tokens included; > 261) on the pretraining corpus
	// instead (needs pretrain, excludes tokenizer). A few thousand ids cut
	// sequence lengths about 4× against bytes, which is what makes CPU
	// training on GSM8K practical.
	BPEVocab int `json:"bpe_vocab,omitempty"`
}

// PretrainSpec is a short next-token pretraining stage on a plain-text corpus
// (full-sequence loss), run before phase 1 on a random-init model.
type PretrainSpec struct {
	Corpus string `json:"corpus"`           // required: a UTF-8 text file
	Epochs *int   `json:"epochs,omitempty"` // passes over the corpus; or
	Steps  *int   `json:"steps,omitempty"`  // optimizer steps; default 1 epoch
	// Optimizer defaults to DefaultPretrainOptimizer (our values for a tiny
	// model trained from scratch; the method doc has none).
	Optimizer *OptimizerSpec `json:"optimizer,omitempty"`
}

// UnmarshalJSON decodes p with DefaultPretrainOptimizer under any optimizer
// fields the document leaves out.
func (p *PretrainSpec) UnmarshalJSON(b []byte) error {
	type plain PretrainSpec // no UnmarshalJSON method: no recursion
	o := DefaultPretrainOptimizer()
	v := plain{Optimizer: &o}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = PretrainSpec(v)
	return nil
}

// DataSpec is the training set.
type DataSpec struct {
	Path   string `json:"path"`   // required
	Format string `json:"format"` // "jsonl" (default), "gsm8k" or "mawps"
	// SkipInvalid trains on the valid rows of a file with structural
	// problems, counting the skipped ones, instead of failing (T26).
	SkipInvalid bool `json:"skip_invalid"`
	// LengthPolicy for samples over optimizer.max_length: "truncate"
	// (default) or "drop"; see ApplyMaxLength.
	LengthPolicy LengthPolicy `json:"length_policy"`
	// Limit keeps only the first Limit samples (0 = all), for slices.
	Limit int `json:"limit"`
}

// PhaseSpec sets the length of a training phase: at most one of Epochs and
// Steps (optimizer steps).
type PhaseSpec struct {
	Epochs *int `json:"epochs,omitempty"`
	Steps  *int `json:"steps,omitempty"`
}

// SelectionSpec is phase 2 (wmss-method.md, "Sampling weights").
type SelectionSpec struct {
	Formula Formula `json:"formula"` // "official" (default) or "paper_v2"
	Alpha   float64 `json:"alpha"`   // default 0.1
	Beta    float64 `json:"beta"`    // default 0.8
	Gamma   float64 `json:"gamma"`   // default 0.1
	// Multiplier: the resampled set has round(|D|·Multiplier) draws; default 1.0.
	Multiplier     float64 `json:"multiplier"`
	DropDuplicates bool    `json:"drop_duplicates"` // default false (paper v2: true)
	Seed           *uint64 `json:"seed,omitempty"`  // default: the spec's seed
}

// JointSpec is phase 3 (wmss-method.md, "Pipeline" step 3).
type JointSpec struct {
	// Lambda is the constant λ weighting the strong logits, in [0, 1];
	// default 0.5. Set at most one of Lambda and LambdaSchedule.
	Lambda         *float64        `json:"lambda,omitempty"`
	LambdaSchedule *LambdaSchedule `json:"lambda_schedule,omitempty"`
	Weak           string          `json:"weak"`           // "trained" (default) or "frozen"
	LossPositions  string          `json:"loss_positions"` // "completion" (default) or "full"
	// Epochs or Steps (at most one) per round; an epoch is one pass over the
	// resampled set. Default 1 epoch.
	Epochs *int `json:"epochs,omitempty"`
	Steps  *int `json:"steps,omitempty"`
}

// Phase returns the joint phase's length settings.
func (j *JointSpec) Phase() PhaseSpec { return PhaseSpec{Epochs: j.Epochs, Steps: j.Steps} }

// OptimizerSpec sets AdamW and the batch shape (wmss-method.md, "Options").
type OptimizerSpec struct {
	LR          float64      `json:"lr"`           // peak learning rate; default 1e-5 (paper, GPU)
	MinLR       float64      `json:"min_lr"`       // decay floor; default 0
	WarmupRatio float64      `json:"warmup_ratio"` // share of a phase's steps; default 0.1
	Schedule    ScheduleKind `json:"schedule"`     // decay: "linear" (default; HF Trainer's), "cosine", "constant"
	// GlobalBatch is the number of samples per optimizer step; default 512
	// (paper, GPU; the authors' code uses 256). It must be a multiple of
	// MicroBatch: gradient accumulation = GlobalBatch/MicroBatch.
	GlobalBatch int     `json:"global_batch"`
	MicroBatch  int     `json:"micro_batch"`  // samples per forward pass; default 1 (the authors' per-device batch)
	MaxLength   int     `json:"max_length"`   // tokens per sample; default 4096
	Clip        float64 `json:"clip"`         // gradient-norm clip; default 1.0; 0 disables
	WeightDecay float64 `json:"weight_decay"` // AdamW decoupled weight decay; default 0 (HF Trainer's)
}

// CheckpointSpec sets checkpoint cadence. Checkpoints are also written at
// every phase end, and only on optimizer-step boundaries.
type CheckpointSpec struct {
	EverySteps int `json:"every_steps"` // default 100; 0 = phase ends only
	KeepLast   int `json:"keep_last"`   // checkpoints kept; default 2, ≥ 1
}

// EvaluationSpec runs benchmarks on the model after the named phases.
type EvaluationSpec struct {
	After      []string `json:"after"`      // phases; default the job's last ("joint", or "sft" for sft_baseline)
	Benchmarks []string `json:"benchmarks"` // required, from Benchmarks
	Limit      int      `json:"limit"`      // first N problems of each set; 0 = all
	// MaxNewTokens per answer; default 4096 (the paper's; 8192 for AIME25
	// and AMC23 is the evaluator's business).
	MaxNewTokens int `json:"max_new_tokens"`
}

// DefaultSpec returns a spec holding every default of wmss-method.md; the
// required fields (base model, data path) are empty.
func DefaultSpec() Spec {
	c := DefaultCoefficients()
	return Spec{
		Kind:      KindWMSS,
		Seed:      42,
		Data:      DataSpec{Format: FormatJSONL, LengthPolicy: LengthTruncate},
		Selection: SelectionSpec{Formula: FormulaOfficial, Alpha: c.Alpha, Beta: c.Beta, Gamma: c.Gamma, Multiplier: 1},
		Joint:     JointSpec{Weak: WeakTrained, LossPositions: LossCompletion},
		Rounds:    1,
		Optimizer: OptimizerSpec{
			LR: 1e-5, WarmupRatio: 0.1, Schedule: ScheduleLinear,
			GlobalBatch: 512, MicroBatch: 1, MaxLength: 4096, Clip: 1.0,
		},
		Checkpoint: CheckpointSpec{EverySteps: 100, KeepLast: 2},
	}
}

// DefaultPretrainOptimizer returns the optimizer of the pretraining stage
// when the spec gives none: lr 1e-3 with 10% warmup and cosine decay,
// batches of 16 sequences of 256 tokens. These are our values for a tiny
// model from scratch (nanoGPT's small-model regime), not the method's.
func DefaultPretrainOptimizer() OptimizerSpec {
	return OptimizerSpec{
		LR: 1e-3, MinLR: 1e-4, WarmupRatio: 0.1, Schedule: ScheduleCosine,
		GlobalBatch: 16, MicroBatch: 16, MaxLength: 256, Clip: 1.0, WeightDecay: 0.1,
	}
}

// DecodeSpec reads a pipeline spec from JSON, fills the defaults and
// validates it. Unknown fields, wrong JSON types and invalid values are
// EINVALID *wmss.Errors whose Field is the JSON path ("optimizer.lr",
// "evaluation.benchmarks[1]"); invalid JSON names the line and column.
func DecodeSpec(data []byte) (*Spec, error) {
	s := DefaultSpec()
	if err := decodeStrict(data, &s); err != nil {
		return nil, err
	}
	s.fillDefaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// fillDefaults sets the defaults that depend on other fields or live behind
// optional pointers.
func (s *Spec) fillDefaults() {
	if s.SFT.Epochs == nil && s.SFT.Steps == nil {
		e := 1
		if s.Kind == KindSFTBaseline {
			e = 2
		}
		s.SFT.Epochs = &e
	}
	if s.Joint.Epochs == nil && s.Joint.Steps == nil {
		e := 1
		s.Joint.Epochs = &e
	}
	if s.Joint.Lambda == nil && s.Joint.LambdaSchedule == nil {
		l := 0.5
		s.Joint.Lambda = &l
	}
	if s.Selection.Seed == nil {
		seed := s.Seed
		s.Selection.Seed = &seed
	}
	if in := s.BaseModel.Init; in != nil && in.Size == "" {
		in.Size = "tiny"
	}
	if p := s.BaseModel.Pretrain; p != nil {
		if p.Epochs == nil && p.Steps == nil {
			e := 1
			p.Epochs = &e
		}
		if p.Optimizer == nil {
			o := DefaultPretrainOptimizer()
			p.Optimizer = &o
		}
	}
	if h := s.Heldout; h != nil {
		if h.Format == "" {
			h.Format = FormatJSONL
		}
		if h.LengthPolicy == "" {
			h.LengthPolicy = LengthTruncate
		}
	}
	if ev := s.Evaluation; ev != nil {
		if len(ev.After) == 0 {
			ev.After = []string{s.lastPhase()}
		}
		if ev.MaxNewTokens == 0 {
			ev.MaxNewTokens = 4096
		}
	}
}

func (s *Spec) lastPhase() string {
	if s.Kind == KindSFTBaseline {
		return PhaseSFT
	}
	return PhaseJoint
}

// Validate checks a filled spec; the first problem is returned as an
// EINVALID *wmss.Error naming its JSON path.
func (s *Spec) Validate() error {
	if s.Kind != KindWMSS && s.Kind != KindSFTBaseline {
		return wmss.FieldErrorf("kind", "unknown job kind %q (want %q or %q)", s.Kind, KindWMSS, KindSFTBaseline)
	}
	if err := s.BaseModel.validate(); err != nil {
		return prefixField("base_model", err)
	}
	if err := s.Data.validate(); err != nil {
		return prefixField("data", err)
	}
	if err := s.SFT.validate(); err != nil {
		return prefixField("sft", err)
	}
	if err := s.Optimizer.validate(); err != nil {
		return prefixField("optimizer", err)
	}
	if err := s.Checkpoint.validate(); err != nil {
		return prefixField("checkpoint", err)
	}
	if s.Kind == KindWMSS {
		if err := s.Selection.validate(); err != nil {
			return prefixField("selection", err)
		}
		if err := s.Joint.validate(); err != nil {
			return prefixField("joint", err)
		}
		if s.Rounds < 1 {
			return wmss.FieldErrorf("rounds", "must be ≥ 1, got %d", s.Rounds)
		}
	}
	if s.Heldout != nil {
		if err := s.Heldout.validate(); err != nil {
			return prefixField("heldout", err)
		}
	}
	if s.Evaluation != nil {
		if err := s.Evaluation.validate(s); err != nil {
			return prefixField("evaluation", err)
		}
	}
	return nil
}

func (b *BaseModelSpec) validate() error {
	switch {
	case b.Path == "" && b.Init == nil:
		return wmss.FieldErrorf("", "set path (a model directory) or init (a random-init spec)")
	case b.Path != "" && b.Init != nil:
		return wmss.FieldErrorf("init", "set path or init, not both")
	case b.Pretrain != nil && b.Init == nil:
		return wmss.FieldErrorf("pretrain", "pretraining is only for a random-init model (set init)")
	}
	if b.Init != nil && !slices.Contains(InitSizes, b.Init.Size) {
		return wmss.FieldErrorf("init.size", "unknown size %q (want one of %v)", b.Init.Size, InitSizes)
	}
	if in := b.Init; in != nil && in.BPEVocab != 0 {
		switch {
		case in.BPEVocab <= 261 || in.BPEVocab > 1<<20:
			return wmss.FieldErrorf("init.bpe_vocab", "want 262 to %d ids, got %d", 1<<20, in.BPEVocab)
		case in.Tokenizer != "":
			return wmss.FieldErrorf("init.bpe_vocab", "set tokenizer or bpe_vocab, not both")
		case b.Pretrain == nil:
			return wmss.FieldErrorf("init.bpe_vocab", "a BPE is trained on the pretraining corpus: set pretrain")
		}
	}
	if p := b.Pretrain; p != nil {
		if p.Corpus == "" {
			return wmss.FieldErrorf("pretrain.corpus", "required: a text file")
		}
		if err := (PhaseSpec{Epochs: p.Epochs, Steps: p.Steps}).validate(); err != nil {
			return prefixField("pretrain", err)
		}
		if err := p.Optimizer.validate(); err != nil {
			return prefixField("pretrain.optimizer", err)
		}
	}
	return nil
}

func (d *DataSpec) validate() error {
	switch {
	case d.Path == "":
		return wmss.FieldErrorf("path", "required: the training-data file")
	case d.Format != FormatJSONL && d.Format != FormatGSM8K && d.Format != FormatMAWPS:
		return wmss.FieldErrorf("format", "unknown format %q (want jsonl, gsm8k or mawps)", d.Format)
	case !d.LengthPolicy.Valid():
		return wmss.FieldErrorf("length_policy", "unknown policy %q (want truncate or drop)", d.LengthPolicy)
	case d.Limit < 0:
		return wmss.FieldErrorf("limit", "must be ≥ 0 (0 = all), got %d", d.Limit)
	}
	return nil
}

func (p PhaseSpec) validate() error {
	switch {
	case p.Epochs != nil && p.Steps != nil:
		return wmss.FieldErrorf("steps", "set epochs or steps, not both")
	case p.Epochs != nil && *p.Epochs < 1:
		return wmss.FieldErrorf("epochs", "must be ≥ 1, got %d", *p.Epochs)
	case p.Steps != nil && *p.Steps < 1:
		return wmss.FieldErrorf("steps", "must be ≥ 1, got %d", *p.Steps)
	}
	return nil
}

func (s *SelectionSpec) validate() error {
	if !s.Formula.Valid() {
		return wmss.FieldErrorf("formula", "unknown formula %q (want %q or %q)", s.Formula, FormulaOfficial, FormulaPaperV2)
	}
	if err := s.Coefficients().validate(); err != nil {
		return err
	}
	if !finite(s.Multiplier) || s.Multiplier <= 0 {
		return wmss.FieldErrorf("multiplier", "must be a finite number > 0, got %v", s.Multiplier)
	}
	return nil
}

// Coefficients returns α, β, γ.
func (s *SelectionSpec) Coefficients() Coefficients {
	return Coefficients{Alpha: s.Alpha, Beta: s.Beta, Gamma: s.Gamma}
}

// Options returns the SelectionOptions of a filled spec.
func (s *SelectionSpec) Options() SelectionOptions {
	var seed uint64
	if s.Seed != nil {
		seed = *s.Seed
	}
	return SelectionOptions{
		Formula: s.Formula, Coefficients: s.Coefficients(),
		Resample: ResampleOptions{Multiplier: s.Multiplier, Seed: seed, DropDuplicates: s.DropDuplicates},
	}
}

func (j *JointSpec) validate() error {
	switch {
	case j.Lambda != nil && j.LambdaSchedule != nil:
		return wmss.FieldErrorf("lambda_schedule", "set lambda or lambda_schedule, not both")
	case j.Lambda != nil && (!finite(*j.Lambda) || *j.Lambda < 0 || *j.Lambda > 1):
		return wmss.FieldErrorf("lambda", "λ must be in [0, 1], got %v", *j.Lambda)
	case j.Weak != WeakTrained && j.Weak != WeakFrozen:
		return wmss.FieldErrorf("weak", "unknown mode %q (want trained or frozen)", j.Weak)
	case j.LossPositions != LossCompletion && j.LossPositions != LossFull:
		return wmss.FieldErrorf("loss_positions", "unknown value %q (want completion or full)", j.LossPositions)
	}
	if j.LambdaSchedule != nil {
		if err := j.LambdaSchedule.Validate(); err != nil {
			return prefixField("lambda_schedule", err)
		}
	}
	return j.Phase().validate()
}

// Schedule returns the λ schedule of a filled spec: LambdaSchedule, or a
// constant Lambda (0.5 when neither is set).
func (j *JointSpec) Schedule() LambdaSchedule {
	if j.LambdaSchedule != nil {
		return *j.LambdaSchedule
	}
	if j.Lambda != nil {
		return ConstantLambda(*j.Lambda)
	}
	return ConstantLambda(0.5)
}

func (o *OptimizerSpec) validate() error {
	if err := o.LRSchedule().Validate(); err != nil {
		// Map the schedule's field names onto the optimizer's.
		return renameField(err, map[string]string{"peak": "lr", "min": "min_lr", "kind": "schedule"})
	}
	switch {
	case o.MicroBatch < 1:
		return wmss.FieldErrorf("micro_batch", "must be ≥ 1, got %d", o.MicroBatch)
	case o.GlobalBatch < 1:
		return wmss.FieldErrorf("global_batch", "must be ≥ 1, got %d", o.GlobalBatch)
	case o.GlobalBatch%o.MicroBatch != 0:
		return wmss.FieldErrorf("global_batch", "must be a multiple of micro_batch %d, got %d", o.MicroBatch, o.GlobalBatch)
	case o.MaxLength < 2:
		return wmss.FieldErrorf("max_length", "must be ≥ 2 tokens, got %d", o.MaxLength)
	case !finite(o.Clip) || o.Clip < 0:
		return wmss.FieldErrorf("clip", "must be a finite number ≥ 0 (0 disables), got %v", o.Clip)
	case !finite(o.WeightDecay) || o.WeightDecay < 0:
		return wmss.FieldErrorf("weight_decay", "must be a finite number ≥ 0, got %v", o.WeightDecay)
	}
	return nil
}

// LRSchedule returns the learning-rate schedule the optimizer settings describe.
func (o *OptimizerSpec) LRSchedule() LRSchedule {
	return LRSchedule{Kind: o.Schedule, Peak: o.LR, Min: o.MinLR, WarmupRatio: o.WarmupRatio}
}

// GradientAccumulation returns GlobalBatch/MicroBatch, the micro-batches per
// optimizer step.
func (o *OptimizerSpec) GradientAccumulation() int { return o.GlobalBatch / o.MicroBatch }

func (c *CheckpointSpec) validate() error {
	switch {
	case c.EverySteps < 0:
		return wmss.FieldErrorf("every_steps", "must be ≥ 0 (0 = phase ends only), got %d", c.EverySteps)
	case c.KeepLast < 1:
		return wmss.FieldErrorf("keep_last", "must be ≥ 1, got %d", c.KeepLast)
	}
	return nil
}

func (e *EvaluationSpec) validate(s *Spec) error {
	if len(e.Benchmarks) == 0 {
		return wmss.FieldErrorf("benchmarks", "required: one or more of %v", Benchmarks)
	}
	for i, b := range e.Benchmarks {
		if !slices.Contains(Benchmarks, b) {
			return wmss.FieldErrorf(fmt.Sprintf("benchmarks[%d]", i), "unknown benchmark %q (want one of %v)", b, Benchmarks)
		}
	}
	phases := []string{PhaseBase, PhaseSFT}
	if s.BaseModel.Pretrain != nil {
		phases = append(phases, PhasePretrain)
	}
	if s.Kind == KindWMSS {
		phases = append(phases, PhaseJoint)
	}
	for i, p := range e.After {
		if !slices.Contains(phases, p) {
			return wmss.FieldErrorf(fmt.Sprintf("after[%d]", i), "phase %q is not part of this job (want one of %v)", p, phases)
		}
	}
	switch {
	case e.Limit < 0:
		return wmss.FieldErrorf("limit", "must be ≥ 0 (0 = all), got %d", e.Limit)
	case e.MaxNewTokens < 1:
		return wmss.FieldErrorf("max_new_tokens", "must be ≥ 1, got %d", e.MaxNewTokens)
	}
	return nil
}

// renameField renames the Field of a *wmss.Error by the map; other errors
// are returned unchanged.
func renameField(err error, names map[string]string) error {
	e, ok := err.(*wmss.Error)
	if !ok {
		return err
	}
	if n, ok := names[e.Field]; ok {
		c := *e
		c.Field = n
		return &c
	}
	return err
}
