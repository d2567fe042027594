package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/wmss/wmss/training"
)

// dataModule holds the data operations the engine's api module lacks
// (bridge/wmss_engine/data.py).
const dataModule = "wmss_engine.data:"

// Engine implements training.Engine over the embedded interpreter: each
// method is one call of a wmss_engine operation (api.py, or data.py for
// tokenization and trainer settings) with typed arguments and results.
type Engine struct {
	IP *Interpreter
}

var _ training.Engine = (*Engine)(nil)

// NewEngine returns the Engine of ip.
func NewEngine(ip *Interpreter) *Engine { return &Engine{IP: ip} }

// call runs op and decodes its result into out (nil to ignore it). A Python
// exception becomes a *training.EngineError; a call that ended because ctx
// did (including the engine's own Cancelled seen after ctx ended) returns
// an error wrapping ctx.Err().
func (e *Engine) call(ctx context.Context, op string, args any, out any) error {
	raw, err := e.IP.Call(ctx, op, args)
	if err != nil {
		if ctx.Err() != nil && (errors.Is(err, ctx.Err()) || IsCancelled(err)) {
			return fmt.Errorf("engine %s: %w", op, ctx.Err())
		}
		var pe *PyError
		if errors.As(err, &pe) {
			return &training.EngineError{Op: pe.Op, Type: pe.Type, Message: pe.Message, Traceback: pe.Traceback}
		}
		return err
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("bridge: %s: decode result: %w", op, err)
		}
	}
	return nil
}

// InitModel calls api.init_model.
func (e *Engine) InitModel(ctx context.Context, r training.InitModelRequest) error {
	args := map[string]any{"out": r.Out, "size": r.Size, "seed": r.Seed}
	if r.TokenizerDir != "" {
		args["tokenizer_dir"] = r.TokenizerDir
	}
	if r.BPECorpus != "" {
		args["bpe_corpus"], args["bpe_vocab_size"] = r.BPECorpus, r.BPEVocab
	}
	return e.call(ctx, "init_model", args, nil)
}

// LoadModel calls api.load_model (float32, CPU, backend auto).
func (e *Engine) LoadModel(ctx context.Context, handle, path string) error {
	return e.call(ctx, "load_model", map[string]any{"handle": handle, "path": path}, nil)
}

// SaveModel calls api.save_model.
func (e *Engine) SaveModel(ctx context.Context, handle, out string) error {
	return e.call(ctx, "save_model", map[string]any{"handle": handle, "out": out}, nil)
}

// Release calls data.release: api.release, and it drops tokenized samples
// still waiting under handle for RegisterTokenized.
func (e *Engine) Release(ctx context.Context, handle string) error {
	return e.call(ctx, dataModule+"release", map[string]any{"handle": handle}, nil)
}

// TokenizeDataset calls data.tokenize_dataset; prompt/completion samples are
// rendered with the tokenizer's chat template (a user and an assistant turn).
func (e *Engine) TokenizeDataset(ctx context.Context, handle, tokenizerDir string, samples []training.Sample, maxLength int) ([]training.TokenizedLength, error) {
	rows := make([]map[string]any, len(samples))
	for i, s := range samples {
		r := map[string]any{}
		if len(s.Messages) > 0 {
			r["messages"] = s.Messages
		} else {
			r["prompt"], r["completion"] = s.Prompt, s.Completion
		}
		if s.Line > 0 {
			r["line"] = s.Line
		}
		rows[i] = r
	}
	var out struct {
		Lengths []training.TokenizedLength `json:"lengths"`
	}
	err := e.call(ctx, dataModule+"tokenize_dataset", map[string]any{
		"handle": handle, "tokenizer_dir": tokenizerDir, "samples": rows, "max_length": maxLength,
	}, &out)
	if err == nil && len(out.Lengths) != len(samples) {
		err = fmt.Errorf("bridge: tokenize_dataset: %d lengths for %d samples", len(out.Lengths), len(samples))
	}
	return out.Lengths, err
}

// RegisterTokenized calls data.register_tokenized.
func (e *Engine) RegisterTokenized(ctx context.Context, handle string, keep []int, maxLength int) (training.RegisteredDataset, error) {
	var out training.RegisteredDataset
	err := e.call(ctx, dataModule+"register_tokenized", map[string]any{
		"handle": handle, "keep": nonNil(keep), "max_length": maxLength,
	}, &out)
	return out, err
}

// TokenizeCorpus calls data.tokenize_corpus.
func (e *Engine) TokenizeCorpus(ctx context.Context, handle, tokenizerDir, path string, blockLength int) (training.RegisteredDataset, error) {
	var out training.RegisteredDataset
	err := e.call(ctx, dataModule+"tokenize_corpus", map[string]any{
		"handle": handle, "tokenizer_dir": tokenizerDir, "path": path, "block_length": blockLength,
	}, &out)
	return out, err
}

// SampleEntropy calls api.sample_entropy over the whole dataset.
func (e *Engine) SampleEntropy(ctx context.Context, model, dataset string) ([]*float64, error) {
	var out struct {
		Entropies []*float64 `json:"entropies"`
	}
	err := e.call(ctx, "sample_entropy", map[string]any{"model": model, "dataset": dataset}, &out)
	return out.Entropies, err
}

// HeldoutLoss calls api.heldout_loss over the whole dataset (completion positions).
func (e *Engine) HeldoutLoss(ctx context.Context, model, dataset string) (training.HeldoutLoss, error) {
	var out training.HeldoutLoss
	err := e.call(ctx, "heldout_loss", map[string]any{"model": model, "dataset": dataset}, &out)
	return out, err
}

// CreateTrainer calls api.create_trainer, then data.configure_trainer for
// the clip norm (create_trainer has no clip argument).
func (e *Engine) CreateTrainer(ctx context.Context, c training.TrainerConfig) error {
	args := map[string]any{"handle": c.Handle, "strong": c.Strong, "weight_decay": c.WeightDecay}
	if c.Weak != "" {
		args["weak"], args["weak_mode"] = c.Weak, c.WeakMode
	}
	if err := e.call(ctx, "create_trainer", args, nil); err != nil {
		return err
	}
	return e.configure(ctx, c)
}

func (e *Engine) configure(ctx context.Context, c training.TrainerConfig) error {
	return e.call(ctx, dataModule+"configure_trainer", map[string]any{"handle": c.Handle, "clip": c.Clip}, nil)
}

// Step calls api.sft_step (Lambda nil) or api.joint_step.
func (e *Engine) Step(ctx context.Context, r training.StepRequest) (training.StepResult, error) {
	args := map[string]any{
		"trainer": r.Trainer, "dataset": r.Dataset, "indices": nonNil(r.Indices), "lr": r.LR,
		"micro_batch_size": r.MicroBatch, "loss_positions": r.LossPositions,
	}
	op := "sft_step"
	if r.Lambda != nil {
		op, args["lam"] = "joint_step", *r.Lambda
	}
	var out training.StepResult
	err := e.call(ctx, op, args, &out)
	return out, err
}

// SaveTrainer calls api.save_trainer.
func (e *Engine) SaveTrainer(ctx context.Context, trainer, out string) error {
	return e.call(ctx, "save_trainer", map[string]any{"trainer": trainer, "out": out}, nil)
}

// LoadTrainer calls api.load_trainer, then data.configure_trainer (the
// load resets the clip norm to the engine default).
func (e *Engine) LoadTrainer(ctx context.Context, c training.TrainerConfig, path string) (int, error) {
	args := map[string]any{"handle": c.Handle, "path": path, "strong": c.Strong}
	if c.Weak != "" {
		args["weak"] = c.Weak
	}
	var out struct {
		Step int `json:"step"`
	}
	if err := e.call(ctx, "load_trainer", args, &out); err != nil {
		return 0, err
	}
	return out.Step, e.configure(ctx, c)
}

// ExtractStrong calls api.extract_strong.
func (e *Engine) ExtractStrong(ctx context.Context, trainer, out string) error {
	return e.call(ctx, "extract_strong", map[string]any{"trainer": trainer, "out": out}, nil)
}

// nonNil makes a nil slice encode as [] rather than null.
func nonNil(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}
