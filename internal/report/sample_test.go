package report_test

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/internal/report"
	"github.com/wmss/wmss/training"
)

// sampleInput returns synthetic data shaped like a demo run on the 2-core
// machine: 400 training samples, global batch 8 (50 steps per epoch), the
// baseline's two SFT epochs against WMSS's SFT epoch and joint epoch, and a
// curriculum whose weights and draws come from training.Select (official
// formula, seed 42).
func sampleInput(t testing.TB) *report.Input {
	const n, perEpoch = 400, 50
	rng := rand.New(rand.NewPCG(7, 1))
	noise := func(s float64) float64 { return s * rng.NormFloat64() }
	lr := func(t, total int) float64 { // 10% linear warmup, then linear decay
		w := max(1, total/10)
		if t < w {
			return 1e-3 * float64(t+1) / float64(w)
		}
		return 1e-3 * float64(total-t) / float64(total-w)
	}
	sftStep := func(phase string, step, total int, epochs float64) wmss.Metric {
		p := epochs // progress in epochs
		loss := 1.55 + 1.5*math.Exp(-2.2*p) + noise(0.12)
		gap := 3 + 5.5*(1-math.Exp(-1.3*p)) + noise(0.25)
		neg := 0.35 + 0.4*math.Exp(-1.5*p) + noise(0.02)
		return wmss.Metric{Phase: phase, Step: step, Values: map[string]float64{
			"loss": loss, "lr": lr(step-1, total), "grad_norm": 1.2 + noise(0.2),
			"tokens_per_s": 850 + noise(40), "supervised_tokens": 8 * 95,
			"logit_gap": gap, "target_logit": gap + 1.5, "mean_nontarget_logit": 1.5,
			"negative_mass_strong": neg,
		}}
	}
	var base, wm []wmss.Metric
	for s := 1; s <= 2*perEpoch; s++ {
		base = append(base, sftStep("sft", s, 2*perEpoch, float64(s)/perEpoch))
	}
	for s := 1; s <= perEpoch; s++ {
		wm = append(wm, sftStep("sft", s, perEpoch, float64(s)/perEpoch))
	}
	for s := 1; s <= perEpoch; s++ {
		p := 1 + float64(s)/perEpoch
		neg := 0.42 - 0.05*(p-1) + noise(0.02)
		wm = append(wm, wmss.Metric{Phase: "joint", Step: s, Values: map[string]float64{
			"loss": 2.05 - 0.25*(p-1) + noise(0.1), "lr": lr(s-1, perEpoch), "lambda": 0.5,
			"grad_norm": 1.6 + noise(0.2), "tokens_per_s": 480 + noise(30), "supervised_tokens": 8 * 95,
			"logit_gap": 6.4 + 0.8*(p-1) + noise(0.25), "target_logit": 8, "mean_nontarget_logit": 1.5,
			"negative_mass_strong": neg, "negative_mass_mixed": neg + 0.2 + noise(0.02),
			"hard_negative_mass_strong": 0.4*neg + noise(0.01), "hard_negative_mass_mixed": 0.4*neg + 0.15 + noise(0.01),
		}})
	}
	wm[57].Values["loss"] = math.NaN() // a non-finite value the report must skip and count
	base = append(base, wmss.Metric{Phase: "heldout.sft", Step: 2 * perEpoch, Values: map[string]float64{"loss": 1.71}})
	wm = append(wm,
		wmss.Metric{Phase: "heldout.sft", Step: perEpoch, Values: map[string]float64{"loss": 1.83}},
		wmss.Metric{Phase: "heldout.joint", Step: perEpoch, Values: map[string]float64{"loss": 1.74}})

	ent := make([]training.SampleEntropy, n)
	for i := range ent {
		w := 2.1 + noise(0.45)
		ent[i] = training.SampleEntropy{Weak: math.Max(w, 0.2), Strong: math.Max(w-0.55+noise(0.3), 0.1)}
	}
	ent[13].Missing = true
	sel, err := training.Select(ent, training.SelectionOptions{
		Formula: training.FormulaOfficial, Coefficients: training.DefaultCoefficients(),
		Resample: training.ResampleOptions{Multiplier: 1, Seed: 42},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &report.Input{
		Title:     "WMSS vs SFT on GSM8K — tiny model, CPU demo",
		Generated: time.Date(2026, 7, 1, 12, 30, 0, 0, time.UTC),
		Machine:   "Debian bookworm, 2 CPU cores, 24 GiB, no GPU",
		Model:     report.Model{SizeName: "tiny", Parameters: 3_412_224, Architecture: "Qwen3-style decoder, 4 layers, d_model 256, 4 heads, vocab 4096"},
		Data: report.Data{TrainSamples: n, PretrainTokens: 1_250_000, HeldoutSamples: 64, EvalSlices: []report.EvalSlice{
			{Benchmark: "gsm8k", Name: "GSM8K test, first 200", Problems: 200},
			{Benchmark: "svamp", Name: "SVAMP, first 200", Problems: 200},
		}},
		Budget: report.Budget{BaselineEpochs: 2, BaselineSteps: 2 * perEpoch, WMSSSFTEpochs: 1, WMSSSFTSteps: perEpoch,
			WMSSJointEpochs: 1, WMSSJointSteps: perEpoch, GlobalBatch: 8, MaxLength: 256},
		Seed:       42,
		Runs:       []report.Run{{Name: "SFT baseline", Metrics: base}, {Name: "WMSS", Metrics: wm}},
		Curriculum: sel.Records(),
		Eval: report.EvalTable{Rows: []report.EvalRow{
			{Model: "M0 (base)", Role: report.RoleBase, Values: map[string]float64{"gsm8k_strict": 0.005, "gsm8k_flexible": 0.01, "svamp": 0.02, "heldout_loss": 2.41}},
			{Model: "M1 (SFT, 1 epoch)", Role: report.RoleM1, Values: map[string]float64{"gsm8k_strict": 0.015, "gsm8k_flexible": 0.025, "svamp": 0.035, "heldout_loss": 1.83}},
			{Model: "SFT baseline (2 epochs)", Role: report.RoleBaseline, Values: map[string]float64{"gsm8k_strict": 0.02, "gsm8k_flexible": 0.03, "svamp": 0.04, "heldout_loss": 1.71}},
			{Model: "WMSS (1 SFT + 1 joint epoch)", Role: report.RoleWMSS, Values: map[string]float64{"gsm8k_strict": 0.025, "gsm8k_flexible": 0.03, "svamp": 0.035}},
		}},
		Notes: []string{"Synthetic numbers: this sample report exercises the layout, not the method."},
	}
}

// TestWriteSample renders the sample report; with WMSS_REPORT_SAMPLE set it
// writes it there (for looking at it in a browser), else into a temp dir.
func TestWriteSample(t *testing.T) {
	path := os.Getenv("WMSS_REPORT_SAMPLE")
	if path == "" {
		path = t.TempDir() + "/report.html"
	}
	if err := report.WriteFile(path, sampleInput(t)); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() < 10_000 {
		t.Errorf("report is %d bytes; want a full page", st.Size())
	}
}
