package training

import (
	"context"
	"fmt"
)

// Engine is what the pipeline needs from the model engine (PyTorch behind
// the bridge; bridge.Engine implements it over bridge/wmss_engine). Models,
// datasets and trainers live in the engine under handle strings the caller
// chooses; only indices, scalars and paths cross the interface.
//
// Every method honours ctx: when it ends, the call returns ctx.Err() (or an
// error wrapping it) and the engine stops the running operation at its next
// cooperative check. Engine-side exceptions come back as *EngineError.
type Engine interface {
	// InitModel writes a seeded random-init model (and the engine's
	// byte-level tokenizer, or a copy of the one in TokenizerDir) to Out in
	// HF layout.
	InitModel(ctx context.Context, r InitModelRequest) error
	// LoadModel loads the HF-layout model directory path under handle.
	LoadModel(ctx context.Context, handle, path string) error
	// SaveModel writes the model under handle to out in HF layout.
	SaveModel(ctx context.Context, handle, out string) error
	// Release drops a model, dataset or trainer handle; an unknown handle is
	// not an error.
	Release(ctx context.Context, handle string) error

	// TokenizeDataset tokenizes samples at full length with the tokenizer in
	// tokenizerDir and reports each one's length against maxLength; the
	// tokens wait in the engine under handle for RegisterTokenized.
	TokenizeDataset(ctx context.Context, handle, tokenizerDir string, samples []Sample, maxLength int) ([]TokenizedLength, error)
	// RegisterTokenized registers the samples at positions keep of the last
	// TokenizeDataset under handle, cut to maxLength; later indices into the
	// dataset are positions in keep.
	RegisterTokenized(ctx context.Context, handle string, keep []int, maxLength int) (RegisteredDataset, error)
	// TokenizeCorpus cuts a UTF-8 text file into blocks of blockLength tokens
	// (every position supervised) and registers them under handle.
	TokenizeCorpus(ctx context.Context, handle, tokenizerDir, path string, blockLength int) (RegisteredDataset, error)

	// SampleEntropy returns H(model; x_i) for every sample of dataset, in
	// nats per supervised token (wmss-method.md, "Notation"); nil for a
	// sample without supervised tokens.
	SampleEntropy(ctx context.Context, model, dataset string) ([]*float64, error)
	// HeldoutLoss returns the mean cross-entropy (nats per supervised token)
	// of model on every sample of dataset; Loss is nil without supervised tokens.
	HeldoutLoss(ctx context.Context, model, dataset string) (HeldoutLoss, error)

	// CreateTrainer makes an AdamW trainer (SFT when Weak is empty, WMSS
	// joint training otherwise).
	CreateTrainer(ctx context.Context, c TrainerConfig) error
	// Step runs one optimizer step over a global batch.
	Step(ctx context.Context, r StepRequest) (StepResult, error)
	// SaveTrainer writes weights, optimizer state and RNG state to out.
	SaveTrainer(ctx context.Context, trainer, out string) error
	// LoadTrainer restores a trainer saved by SaveTrainer, with its models
	// under the handles in c, and returns the engine's optimizer-step count.
	LoadTrainer(ctx context.Context, c TrainerConfig, path string) (int, error)
	// ExtractStrong writes the trainer's strong model to out as a plain
	// HF-layout checkpoint of the base architecture (wmss-method.md, fact 10).
	ExtractStrong(ctx context.Context, trainer, out string) error
}

// InitModelRequest asks for a random-init model.
type InitModelRequest struct {
	Out          string // output directory
	Size         string // one of InitSizes
	Seed         uint64 // weight-init seed
	TokenizerDir string // "" = the engine's byte-level tokenizer
	// BPECorpus and BPEVocab, when set, train a BPE tokenizer of BPEVocab
	// ids on that text file instead.
	BPECorpus string
	BPEVocab  int
}

// TokenizedLength is one sample's length as the engine tokenized it. Error
// is set (to a Reason* value such as ReasonEmptyCompletion) when the sample
// cannot be used at all, with Message saying why.
type TokenizedLength struct {
	Tokens int `json:"tokens"`
	// SupervisedInWindow counts the trainable supervised targets among the
	// first maxLength tokens (positions 1 … maxLength−1 of the loss mask:
	// position 0 has no preceding logit).
	SupervisedInWindow int    `json:"supervised_in_window"`
	Error              string `json:"error,omitempty"`
	Message            string `json:"message,omitempty"`
}

// RegisteredDataset describes a dataset registered in the engine.
type RegisteredDataset struct {
	Samples          int `json:"num_samples"`
	SupervisedTokens int `json:"supervised_tokens"`
	Tokens           int `json:"tokens"` // corpus only: tokens before cutting into blocks
}

// HeldoutLoss is the result of Engine.HeldoutLoss.
type HeldoutLoss struct {
	Loss             *float64 `json:"loss"` // nats per supervised token
	SupervisedTokens int      `json:"supervised_tokens"`
}

// TrainerConfig configures a trainer. Weak empty means SFT of Strong.
type TrainerConfig struct {
	Handle      string
	Strong      string // model handle
	Weak        string // model handle; "" for SFT
	WeakMode    string // WeakTrained or WeakFrozen (joint only)
	WeightDecay float64
	Clip        float64 // max global gradient L2 norm; 0 disables clipping
}

// StepRequest is one optimizer step. Indices is the global batch (dataset
// positions, in micro-batch order); MicroBatch splits it for gradient
// accumulation. Lambda nil means an SFT step; set, a joint step with
// z_mix = λ·z_s + (1−λ)·z_w.
type StepRequest struct {
	Trainer       string
	Dataset       string
	Indices       []int
	MicroBatch    int
	LR            float64
	Lambda        *float64
	LossPositions string // LossCompletion or LossFull
}

// StepResult is what one optimizer step reports. A global batch without a
// supervised token is Skipped (training case T24): Loss is nil then, never
// NaN or 0.
type StepResult struct {
	Skipped          bool               `json:"skipped"`
	Reason           string             `json:"reason,omitempty"`
	Loss             *float64           `json:"loss"` // nats per supervised token
	SupervisedTokens int                `json:"supervised_tokens"`
	GradNorm         float64            `json:"grad_norm"` // before clipping
	Stats            map[string]float64 `json:"stats,omitempty"`
}

// EngineError is an exception raised inside the engine: its type (the
// Python class name), message and traceback. The pipeline fails the job
// with Type and Message and records the traceback in an event.
type EngineError struct {
	Op        string // the engine operation, e.g. "sft_step"
	Type      string // e.g. "ValueError"
	Message   string
	Traceback string
}

// Error reads "engine sft_step: ValueError: message".
func (e *EngineError) Error() string {
	return fmt.Sprintf("engine %s: %s: %s", e.Op, e.Type, e.Message)
}
