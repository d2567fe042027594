package training_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"unicode/utf8"

	"github.com/wmss/wmss/training"
)

// fakeEngine is a deterministic stand-in for the PyTorch engine, for the
// pipeline's and runner's logic: a "model" is one number w stored in
// config.json, a step moves w by the learning rate, and every result is a
// pure function of w, the indices, lr and λ. State lives in memory like the
// real engine's handles, so a new fakeEngine is a new process: only what
// was written to disk survives.
type fakeEngine struct {
	mu       sync.Mutex
	models   map[string]float64
	datasets map[string][]int // handle → supervised tokens per sample
	pending  map[string][]int
	trainers map[string]*fakeTrainer
	released []string

	steps []training.StepRequest // every Step call that ran, in order
	// hook runs before each Step (n counts Step calls from 1); an error is
	// returned as the step's error.
	hook func(ctx context.Context, r training.StepRequest, n int) error
	// skip reports whether a global batch has no supervised token.
	skip func(indices []int) bool
}

type fakeTrainer struct {
	strong, weak, mode string
	steps              int
	clip               float64
}

func newFakeEngine() *fakeEngine {
	return &fakeEngine{models: map[string]float64{}, datasets: map[string][]int{}, pending: map[string][]int{}, trainers: map[string]*fakeTrainer{}}
}

func (f *fakeEngine) stepCalls() []training.StepRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]training.StepRequest(nil), f.steps...)
}

func writeW(dir string, w float64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, _ := json.Marshal(map[string]float64{"w": w})
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "tokenizer.json"), []byte("{}"), 0o644)
}

func readW(dir string) (float64, error) {
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return 0, &training.EngineError{Op: "load_model", Type: "CheckpointError", Message: err.Error(), Traceback: "Traceback (fake)"}
	}
	var v map[string]float64
	if err := json.Unmarshal(b, &v); err != nil {
		return 0, err
	}
	return v["w"], nil
}

func (f *fakeEngine) InitModel(ctx context.Context, r training.InitModelRequest) error {
	return writeW(r.Out, 1+float64(r.Seed)/10)
}

func (f *fakeEngine) LoadModel(ctx context.Context, handle, path string) error {
	w, err := readW(path)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.models[handle] = w
	return nil
}

func (f *fakeEngine) SaveModel(ctx context.Context, handle, out string) error {
	f.mu.Lock()
	w, ok := f.models[handle]
	f.mu.Unlock()
	if !ok {
		return &training.EngineError{Op: "save_model", Type: "KeyError", Message: "no model " + handle}
	}
	return writeW(out, w)
}

func (f *fakeEngine) Release(ctx context.Context, handle string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.models, handle)
	delete(f.datasets, handle)
	delete(f.trainers, handle)
	f.released = append(f.released, handle)
	return nil
}

// TokenizeDataset counts characters as tokens: a sample has
// len(prompt)+len(completion) tokens, the completion's supervised.
func (f *fakeEngine) TokenizeDataset(ctx context.Context, handle, tokenizerDir string, samples []training.Sample, maxLength int) ([]training.TokenizedLength, error) {
	out := make([]training.TokenizedLength, len(samples))
	sup := make([]int, len(samples))
	for i, s := range samples {
		if s.Completion == "" {
			out[i] = training.TokenizedLength{Error: training.ReasonEmptyCompletion, Message: "empty"}
			continue
		}
		p, c := utf8.RuneCountInString(s.Prompt), utf8.RuneCountInString(s.Completion)
		out[i] = training.TokenizedLength{Tokens: p + c, SupervisedInWindow: max(0, min(p+c, maxLength)-p)}
		sup[i] = out[i].SupervisedInWindow
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending[handle] = sup
	return out, nil
}

func (f *fakeEngine) RegisterTokenized(ctx context.Context, handle string, keep []int, maxLength int) (training.RegisteredDataset, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sup := f.pending[handle]
	var ds []int
	total := 0
	for _, i := range keep {
		ds = append(ds, sup[i])
		total += sup[i]
	}
	f.datasets[handle] = ds
	delete(f.pending, handle)
	return training.RegisteredDataset{Samples: len(ds), SupervisedTokens: total}, nil
}

func (f *fakeEngine) TokenizeCorpus(ctx context.Context, handle, tokenizerDir, path string, blockLength int) (training.RegisteredDataset, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return training.RegisteredDataset{}, &training.EngineError{Op: "tokenize_corpus", Type: "FileNotFoundError", Message: err.Error()}
	}
	n := (len(b) + blockLength - 1) / blockLength
	ds := make([]int, n)
	for i := range ds {
		ds[i] = blockLength - 1
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.datasets[handle] = ds
	return training.RegisteredDataset{Samples: n, SupervisedTokens: n * (blockLength - 1), Tokens: len(b)}, nil
}

func (f *fakeEngine) SampleEntropy(ctx context.Context, model, dataset string) ([]*float64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w, ok := f.models[model]
	if !ok {
		return nil, fmt.Errorf("no model %s", model)
	}
	out := make([]*float64, len(f.datasets[dataset]))
	for i := range out {
		h := 1/(1+math.Abs(w)) + 0.01*float64(i%7)
		out[i] = &h
	}
	return out, nil
}

func (f *fakeEngine) HeldoutLoss(ctx context.Context, model, dataset string) (training.HeldoutLoss, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := 1 + f.models[model]*f.models[model]
	return training.HeldoutLoss{Loss: &l, SupervisedTokens: 10}, nil
}

func (f *fakeEngine) CreateTrainer(ctx context.Context, c training.TrainerConfig) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.models[c.Strong]; !ok {
		return fmt.Errorf("no model %s", c.Strong)
	}
	f.trainers[c.Handle] = &fakeTrainer{strong: c.Strong, weak: c.Weak, mode: c.WeakMode, clip: c.Clip}
	return nil
}

// Step: loss = 1 + w_s² + mean(indices)/1000 (joint: of λ·w_s + (1−λ)·w_w);
// then w ← w − lr·(w + 1) for each trained model.
func (f *fakeEngine) Step(ctx context.Context, r training.StepRequest) (training.StepResult, error) {
	f.mu.Lock()
	n := len(f.steps) + 1
	hook := f.hook
	f.mu.Unlock()
	if hook != nil {
		if err := hook(ctx, r, n); err != nil {
			return training.StepResult{}, err
		}
	}
	if err := ctx.Err(); err != nil {
		return training.StepResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.steps = append(f.steps, r)
	t := f.trainers[r.Trainer]
	if t == nil {
		return training.StepResult{}, &training.EngineError{Op: "sft_step", Type: "KeyError", Message: "no trainer " + r.Trainer}
	}
	if (r.Lambda != nil) != (t.weak != "") {
		return training.StepResult{}, &training.EngineError{Op: "sft_step", Type: "ValueError", Message: "λ does not match the trainer"}
	}
	ds := f.datasets[r.Dataset]
	tokens, sum := 0, 0
	for _, i := range r.Indices {
		if i < 0 || i >= len(ds) {
			return training.StepResult{}, &training.EngineError{Op: "sft_step", Type: "ValueError", Message: fmt.Sprintf("index %d outside [0, %d)", i, len(ds))}
		}
		tokens += ds[i]
		sum += i
	}
	if f.skip != nil && f.skip(r.Indices) {
		return training.StepResult{Skipped: true, Reason: training.ReasonNoSupervisedTokens}, nil
	}
	ws := f.models[t.strong]
	z := ws
	if r.Lambda != nil {
		z = *r.Lambda*ws + (1-*r.Lambda)*f.models[t.weak]
	}
	loss := 1 + z*z + float64(sum)/float64(len(r.Indices))/1000
	f.models[t.strong] = ws - r.LR*(ws+1)
	if t.weak != "" && t.mode == training.WeakTrained {
		ww := f.models[t.weak]
		f.models[t.weak] = ww - r.LR*(ww+1)
	}
	t.steps++
	return training.StepResult{Loss: &loss, SupervisedTokens: tokens, GradNorm: math.Abs(ws + 1),
		Stats: map[string]float64{"logit_gap": z}}, nil
}

func (f *fakeEngine) SaveTrainer(ctx context.Context, trainer, out string) error {
	f.mu.Lock()
	t := f.trainers[trainer]
	f.mu.Unlock()
	if err := f.SaveModel(ctx, t.strong, filepath.Join(out, "strong")); err != nil {
		return err
	}
	if t.weak != "" {
		if err := f.SaveModel(ctx, t.weak, filepath.Join(out, "weak")); err != nil {
			return err
		}
	}
	b, _ := json.Marshal(map[string]any{"steps": t.steps, "mode": t.mode})
	return os.WriteFile(filepath.Join(out, "trainer.json"), b, 0o644)
}

func (f *fakeEngine) LoadTrainer(ctx context.Context, c training.TrainerConfig, path string) (int, error) {
	b, err := os.ReadFile(filepath.Join(path, "trainer.json"))
	if err != nil {
		return 0, err
	}
	var st struct {
		Steps int    `json:"steps"`
		Mode  string `json:"mode"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return 0, err
	}
	if err := f.LoadModel(ctx, c.Strong, filepath.Join(path, "strong")); err != nil {
		return 0, err
	}
	if c.Weak != "" {
		if err := f.LoadModel(ctx, c.Weak, filepath.Join(path, "weak")); err != nil {
			return 0, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.trainers[c.Handle] = &fakeTrainer{strong: c.Strong, weak: c.Weak, mode: st.Mode, steps: st.Steps, clip: c.Clip}
	return st.Steps, nil
}

func (f *fakeEngine) ExtractStrong(ctx context.Context, trainer, out string) error {
	f.mu.Lock()
	t := f.trainers[trainer]
	f.mu.Unlock()
	return f.SaveModel(ctx, t.strong, out)
}
