package training_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/evaluators/benchmarks"
	"github.com/wmss/wmss/training"
)

func TestDecodeSpec_Defaults(t *testing.T) {
	s, err := training.DecodeSpec([]byte(`{"base_model": {"path": "/models/m0"}, "data": {"path": "train.jsonl"}}`))
	if err != nil {
		t.Fatal(err)
	}
	// wmss-method.md, "Options and their defaults" and "Pipeline".
	o := s.Optimizer
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"kind", s.Kind, training.KindWMSS},
		{"seed", s.Seed, uint64(42)},
		{"sft.epochs", *s.SFT.Epochs, 1},
		{"selection.formula", s.Selection.Formula, training.FormulaOfficial},
		{"selection.coefficients", s.Selection.Coefficients(), training.Coefficients{Alpha: 0.1, Beta: 0.8, Gamma: 0.1}},
		{"selection.multiplier", s.Selection.Multiplier, 1.0},
		{"selection.drop_duplicates", s.Selection.DropDuplicates, false},
		{"selection.seed", *s.Selection.Seed, uint64(42)},
		{"joint.lambda", s.Joint.Schedule(), training.ConstantLambda(0.5)},
		{"joint.weak", s.Joint.Weak, training.WeakTrained},
		{"joint.loss_positions", s.Joint.LossPositions, training.LossCompletion},
		{"joint.epochs", *s.Joint.Epochs, 1},
		{"rounds", s.Rounds, 1},
		{"optimizer.lr", o.LR, 1e-5},
		{"optimizer.warmup_ratio", o.WarmupRatio, 0.1},
		{"optimizer.clip", o.Clip, 1.0},
		{"optimizer.global_batch", o.GlobalBatch, 512},
		{"optimizer.max_length", o.MaxLength, 4096},
		{"gradient_accumulation", o.GradientAccumulation(), 512},
		{"data.format", s.Data.Format, training.FormatJSONL},
		{"data.length_policy", s.Data.LengthPolicy, training.LengthTruncate},
		{"evaluation", s.Evaluation == nil, true},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestDecodeSpec_Full(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzDecodeSpec", "full"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := training.DecodeSpec(fuzzPayload(t, data))
	if err != nil {
		t.Fatal(err)
	}
	if s.BaseModel.Init.Size != "tiny" || s.BaseModel.Init.Seed != 3 || *s.BaseModel.Pretrain.Steps != 200 ||
		s.BaseModel.Pretrain.Optimizer.LR != 1e-3 || s.BaseModel.Pretrain.Optimizer.Schedule != training.ScheduleCosine {
		t.Errorf("base_model = %+v / %+v", s.BaseModel.Init, s.BaseModel.Pretrain)
	}
	if got := s.Joint.Schedule(); got != (training.LambdaSchedule{Kind: training.ScheduleLinear, Start: 0.6, End: 0.4}) {
		t.Errorf("λ schedule = %+v", got)
	}
	if s.Selection.Options().Resample != (training.ResampleOptions{Multiplier: 1.5, Seed: 7, DropDuplicates: true}) {
		t.Errorf("resample = %+v", s.Selection.Options().Resample)
	}
	if s.Optimizer.GradientAccumulation() != 4 || *s.Joint.Steps != 30 || s.Rounds != 2 {
		t.Errorf("optimizer %+v joint %+v rounds %d", s.Optimizer, s.Joint, s.Rounds)
	}
	if got := s.Optimizer.LRSchedule().Values(3); got[0] != 1e-4/2 { // ⌈0.2·3⌉ = 1 warmup step
		t.Errorf("lr values = %v", got)
	}
	if want := []string{"sft", "joint"}; !reflect.DeepEqual(s.Evaluation.After, want) || s.Evaluation.MaxNewTokens != 4096 {
		t.Errorf("evaluation = %+v", s.Evaluation)
	}
}

func TestDecodeSpec_Baseline(t *testing.T) {
	s, err := training.DecodeSpec([]byte(`{"kind": "sft_baseline", "base_model": {"init": {}}, "data": {"path": "d", "format": "gsm8k"},
		"evaluation": {"benchmarks": ["gsm8k"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	// Same budget as WMSS's 1 SFT + 1 joint epoch.
	if *s.SFT.Epochs != 2 || s.Evaluation.After[0] != training.PhaseSFT || s.BaseModel.Init.Size != "tiny" {
		t.Errorf("sft %v evaluation %+v init %+v", *s.SFT.Epochs, s.Evaluation, s.BaseModel.Init)
	}
}

func TestDecodeSpec_Errors(t *testing.T) {
	const base = `"base_model": {"path": "m"}, "data": {"path": "d"}`
	for _, tc := range []struct {
		name, doc, field string
	}{
		{"UnknownTop", `{` + base + `, "epochs": 2}`, "epochs"},
		{"UnknownNested", `{` + base + `, "optimizer": {"learning_rate": 1}}`, "optimizer.learning_rate"},
		{"CaseMatters", `{` + base + `, "optimizer": {"LR": 1}}`, "optimizer.LR"},
		{"UnknownDeep", `{` + base + `, "joint": {"lambda_schedule": {"kind": "linear", "start": 1, "stop": 0}}}`, "joint.lambda_schedule.stop"},
		{"WrongType", `{` + base + `, "optimizer": {"lr": "1e-5"}}`, "optimizer.lr"},
		{"NotObject", `{` + base + `, "selection": [1]}`, "selection"},
		{"FloatForInt", `{` + base + `, "optimizer": {"micro_batch": 1.5}}`, "optimizer.micro_batch"},
		{"NegativeSeed", `{` + base + `, "seed": -1}`, "seed"},
		{"ArrayIndex", `{` + base + `, "evaluation": {"benchmarks": ["gsm8k", 3]}}`, "evaluation.benchmarks[1]"},
		{"UnknownBenchmark", `{` + base + `, "evaluation": {"benchmarks": ["gsm8k", "mmlu"]}}`, "evaluation.benchmarks[1]"},
		{"BaselineJointEval", `{"kind": "sft_baseline", ` + base + `, "evaluation": {"benchmarks": ["gsm8k"], "after": ["joint"]}}`, "evaluation.after[0]"},
		{"Kind", `{` + base + `, "kind": "rl"}`, "kind"},
		{"NoBase", `{"data": {"path": "d"}}`, "base_model"},
		{"BothBase", `{"base_model": {"path": "m", "init": {}}, "data": {"path": "d"}}`, "base_model.init"},
		{"PretrainWithPath", `{"base_model": {"path": "m", "pretrain": {"corpus": "c"}}, "data": {"path": "d"}}`, "base_model.pretrain"},
		{"PretrainCorpus", `{"base_model": {"init": {}, "pretrain": {}}, "data": {"path": "d"}}`, "base_model.pretrain.corpus"},
		{"PretrainLR", `{"base_model": {"init": {}, "pretrain": {"corpus": "c", "optimizer": {"lr": 0}}}, "data": {"path": "d"}}`, "base_model.pretrain.optimizer.lr"},
		{"InitSize", `{"base_model": {"init": {"size": "huge"}}, "data": {"path": "d"}}`, "base_model.init.size"},
		{"DataPath", `{"base_model": {"path": "m"}, "data": {}}`, "data.path"},
		{"DataFormat", `{"base_model": {"path": "m"}, "data": {"path": "d", "format": "csv"}}`, "data.format"},
		{"LengthPolicy", `{"base_model": {"path": "m"}, "data": {"path": "d", "length_policy": "cut"}}`, "data.length_policy"},
		{"EpochsAndSteps", `{` + base + `, "sft": {"epochs": 1, "steps": 5}}`, "sft.steps"},
		{"ZeroEpochs", `{` + base + `, "joint": {"epochs": 0}}`, "joint.epochs"},
		{"Formula", `{` + base + `, "selection": {"formula": "adaboost"}}`, "selection.formula"},
		{"Beta", `{` + base + `, "selection": {"beta": -0.8}}`, "selection.beta"},
		{"Multiplier", `{` + base + `, "selection": {"multiplier": 0}}`, "selection.multiplier"},
		{"Lambda", `{` + base + `, "joint": {"lambda": 1.2}}`, "joint.lambda"},
		{"LambdaBoth", `{` + base + `, "joint": {"lambda": 0.5, "lambda_schedule": {"kind": "constant", "start": 0.5}}}`, "joint.lambda_schedule"},
		{"LambdaScheduleEnd", `{` + base + `, "joint": {"lambda_schedule": {"kind": "cosine", "start": 0.5, "end": 2}}}`, "joint.lambda_schedule.end"},
		{"Weak", `{` + base + `, "joint": {"weak": "ema"}}`, "joint.weak"},
		{"LossPositions", `{` + base + `, "joint": {"loss_positions": "prompt"}}`, "joint.loss_positions"},
		{"Rounds", `{` + base + `, "rounds": 0}`, "rounds"},
		{"LR", `{` + base + `, "optimizer": {"lr": -1}}`, "optimizer.lr"},
		{"MinLR", `{` + base + `, "optimizer": {"min_lr": 1}}`, "optimizer.min_lr"},
		{"Schedule", `{` + base + `, "optimizer": {"schedule": "step"}}`, "optimizer.schedule"},
		{"Warmup", `{` + base + `, "optimizer": {"warmup_ratio": 1}}`, "optimizer.warmup_ratio"},
		{"Accumulation", `{` + base + `, "optimizer": {"global_batch": 10, "micro_batch": 4}}`, "optimizer.global_batch"},
		{"MaxLength", `{` + base + `, "optimizer": {"max_length": 1}}`, "optimizer.max_length"},
		{"Clip", `{` + base + `, "optimizer": {"clip": -1}}`, "optimizer.clip"},
		{"KeepLast", `{` + base + `, "checkpoint": {"keep_last": 0}}`, "checkpoint.keep_last"},
		{"Syntax", "{\n  \"seed\": 1,\n  oops\n}", ""},
		{"Trailing", `{` + base + `} {}`, ""},
		{"NotJSONObject", `[]`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := training.DecodeSpec([]byte(tc.doc))
			var e *wmss.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *wmss.Error", err)
			}
			if e.Code != wmss.EINVALID || e.Field != tc.field {
				t.Errorf("field %q code %q (%v), want %q", e.Field, e.Code, err, tc.field)
			}
		})
	}
	_, err := training.DecodeSpec([]byte("{\n  \"seed\": 1,\n  oops\n}"))
	if err == nil || !strings.Contains(err.Error(), "line 3, column 3") {
		t.Errorf("syntax error = %v, want line 3, column 3", err)
	}
}

// FuzzDecodeSpec checks that any input either fails with an EINVALID
// *wmss.Error or decodes to a spec that validates and survives a JSON round
// trip unchanged. The seed corpus (testdata/fuzz/FuzzDecodeSpec) runs as a
// normal test.
func FuzzDecodeSpec(f *testing.F) {
	f.Add([]byte(`{"base_model": {"path": "m"}, "data": {"path": "d"}}`))
	f.Add([]byte(`{"kind": "sft_baseline", "base_model": {"init": {"size": "small"}}, "data": {"path": "d", "limit": 5}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := training.DecodeSpec(data)
		if err != nil {
			if code := wmss.ErrorCode(err); code != wmss.EINVALID {
				t.Fatalf("error code %q for %q: %v", code, data, err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("decoded spec does not validate: %v", err)
		}
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		again, err := training.DecodeSpec(out)
		if err != nil {
			t.Fatalf("re-decode of %s: %v", out, err)
		}
		if !reflect.DeepEqual(s, again) {
			t.Fatalf("round trip changed the spec:\n%+v\n%+v", s, again)
		}
	})
}

// fuzzPayload extracts the []byte of a "go test fuzz v1" corpus file.
func fuzzPayload(t *testing.T, file []byte) []byte {
	t.Helper()
	_, rest, ok := strings.Cut(string(file), "\n")
	if !ok {
		t.Fatal("corpus file without header")
	}
	var s string
	if err := json.Unmarshal([]byte(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(rest), "[]byte("), ")")), &s); err != nil {
		t.Fatalf("corpus payload: %v", err)
	}
	return []byte(s)
}

func TestDecodeSpec_Heldout(t *testing.T) {
	s, err := training.DecodeSpec([]byte(`{"base_model":{"path":"m"},"data":{"path":"d.jsonl"},"heldout":{"path":"h.jsonl","limit":50}}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Heldout == nil || s.Heldout.Path != "h.jsonl" || s.Heldout.Limit != 50 || s.Heldout.Format != training.FormatJSONL || s.Heldout.LengthPolicy != training.LengthTruncate {
		t.Fatalf("heldout = %+v", s.Heldout)
	}
	_, err = training.DecodeSpec([]byte(`{"base_model":{"path":"m"},"data":{"path":"d.jsonl"},"heldout":{"path":"h.jsonl","format":"csv"}}`))
	var e *wmss.Error
	if !errors.As(err, &e) || e.Field != "heldout.format" {
		t.Errorf("bad heldout format: err = %v, want field heldout.format", err)
	}
}

func TestDecodeSpec_BPEVocab(t *testing.T) {
	base := `{"data":{"path":"d.jsonl"},"base_model":`
	ok := base + `{"init":{"bpe_vocab":2048},"pretrain":{"corpus":"c.txt"}}}`
	if s, err := training.DecodeSpec([]byte(ok)); err != nil || s.BaseModel.Init.BPEVocab != 2048 {
		t.Fatalf("DecodeSpec = %+v, %v", s, err)
	}
	for _, bad := range []string{
		base + `{"init":{"bpe_vocab":100},"pretrain":{"corpus":"c.txt"}}}`,
		base + `{"init":{"bpe_vocab":2048,"tokenizer":"tok"},"pretrain":{"corpus":"c.txt"}}}`,
		base + `{"init":{"bpe_vocab":2048}}}`,
	} {
		_, err := training.DecodeSpec([]byte(bad))
		var e *wmss.Error
		if !errors.As(err, &e) || e.Field != "base_model.init.bpe_vocab" {
			t.Errorf("%s: err = %v, want field base_model.init.bpe_vocab", bad, err)
		}
	}
}

// The benchmark names a spec accepts are the ones the evaluators load.
func TestBenchmarksAreLoadable(t *testing.T) {
	for _, b := range training.Benchmarks {
		if !slices.Contains(benchmarks.Names(), b) {
			t.Errorf("training.Benchmarks has %q, which evaluators/benchmarks does not load (%v)", b, benchmarks.Names())
		}
	}
}
