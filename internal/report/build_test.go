package report_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/evaluators/evalrun"
	"github.com/wmss/wmss/internal/report"
	"github.com/wmss/wmss/internal/sqlite"
	"github.com/wmss/wmss/training"
)

// TestBuild stores a baseline job, a WMSS job and evaluation jobs the way
// the runner does, and checks what Build puts into the report.
func TestBuild(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(filepath.Join(dir, "wmss.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	mk := func(kind wmss.JobKind, spec string, sum any) *wmss.Job {
		j, _, err := db.CreateJob(ctx, &wmss.Job{Kind: kind, Spec: json.RawMessage(spec)})
		if err != nil {
			t.Fatal(err)
		}
		db.SetJobState(ctx, j.ID, wmss.StateRunning, "")
		b, _ := json.Marshal(sum)
		db.SetSummary(ctx, j.ID, b)
		j, _ = db.SetJobState(ctx, j.ID, wmss.StateSucceeded, "")
		return j
	}
	f := func(v float64) *float64 { return &v }
	b := mk(wmss.KindSFTBaseline, `{"kind":"sft_baseline","base_model":{"init":{"size":"tiny"},"pretrain":{"corpus":"c.txt","epochs":1}},"data":{"path":"d.jsonl"}}`,
		training.Summary{Phases: []training.PhaseSummary{{Name: "pretrain", Steps: 5, HeldoutLoss: f(4.5)}, {Name: "sft", Steps: 8, HeldoutLoss: f(2.0)}}})
	m0 := filepath.Join(dir, "jobs", string(b.ID), "models", "m0")
	w := mk(wmss.KindWMSS, `{"kind":"wmss","base_model":{"path":"`+m0+`"},"data":{"path":"d.jsonl"}}`,
		training.Summary{Data: training.DataSummary{Kept: 7}, Phases: []training.PhaseSummary{{Name: "sft", Steps: 4, HeldoutLoss: f(2.2)}, {Name: "joint", Steps: 4, HeldoutLoss: f(1.9)}}})
	db.AddMetrics(ctx,
		wmss.Metric{JobID: b.ID, Phase: "pretrain", Step: 1, Values: map[string]float64{"loss": 7}},
		wmss.Metric{JobID: b.ID, Phase: "sft", Step: 1, Values: map[string]float64{"loss": 3}},
		wmss.Metric{JobID: w.ID, Phase: "sft", Step: 1, Values: map[string]float64{"loss": 3.1}},
	)
	os.MkdirAll(filepath.Join(dir, "jobs", string(w.ID)), 0o755)
	os.WriteFile(filepath.Join(dir, "jobs", string(w.ID), "selection.jsonl"),
		[]byte(`{"index":0,"weak_entropy":1,"strong_entropy":0.5,"delta_entropy":-0.5,"weight":0.75,"draws":2}`+"\n"+
			`{"index":1,"weak_entropy":1,"strong_entropy":1,"delta_entropy":0,"weight":0.25,"draws":0}`+"\n"), 0o644)
	strict, flex := 0.25, 0.5
	for _, e := range []struct {
		model string
		res   evalrun.Results
	}{
		{filepath.Join(dir, "jobs", string(w.ID), "model"), evalrun.Results{Benchmarks: []evalrun.BenchmarkResult{
			{Name: "gsm8k", Problems: 4, Samples: 1, Strict: &strict, Flexible: &flex}, {Name: "svamp", Problems: 4, Samples: 1, Score: 0.75}}}},
		{m0, evalrun.Results{Benchmarks: []evalrun.BenchmarkResult{{Name: "svamp", Problems: 4, Samples: 1, Score: 0}}}},
	} {
		spec, _ := json.Marshal(map[string]any{"model": e.model})
		mk(wmss.KindEval, string(spec), e.res)
	}

	in, err := report.Source{Store: db, DataDir: dir}.Build(ctx, w.ID, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Runs) != 2 || len(in.Runs[0].Metrics) != 1 || in.Runs[0].Metrics[0].Phase != "sft" {
		t.Errorf("runs = %+v (the baseline's pretrain steps must be left out)", in.Runs)
	}
	if len(in.Curriculum) != 2 || in.Curriculum[0].Weight != 0.75 || in.Data.TrainSamples != 7 {
		t.Errorf("curriculum %+v, train samples %d", in.Curriculum, in.Data.TrainSamples)
	}
	rows := map[string]map[string]float64{}
	for _, r := range in.Eval.Rows {
		rows[string(r.Role)] = r.Values
	}
	want := map[string]map[string]float64{
		"base":         {"heldout_loss": 4.5, "svamp": 0},
		"m1":           {"heldout_loss": 2.2},
		"sft_baseline": {"heldout_loss": 2.0},
		"wmss":         {"heldout_loss": 1.9, "gsm8k_strict": 0.25, "gsm8k_flexible": 0.5, "svamp": 0.75},
	}
	for role, vals := range want {
		if len(rows[role]) != len(vals) {
			t.Errorf("%s: %v, want %v", role, rows[role], vals)
		}
		for k, v := range vals {
			if got, ok := rows[role][k]; !ok || got != v {
				t.Errorf("%s %s = %v (%v), want %v", role, k, got, ok, v)
			}
		}
	}
	if in.Budget.BaselineSteps != 8 || in.Budget.WMSSSFTSteps != 4 || in.Budget.WMSSJointSteps != 4 {
		t.Errorf("budget = %+v", in.Budget)
	}
	var page strings.Builder
	if err := report.Render(&page, in); err != nil {
		t.Fatal(err)
	}
	if _, err := (report.Source{Store: db, DataDir: dir}).Build(ctx, b.ID, ""); wmss.ErrorCode(err) != wmss.EINVALID {
		t.Errorf("report of a baseline job: err = %v, want invalid", err)
	}
	if _, err := (report.Source{Store: db, DataDir: dir}).Build(ctx, w.ID, w.ID); wmss.ErrorCode(err) != wmss.EINVALID {
		t.Errorf("wmss job as baseline: err = %v, want invalid", err)
	}
}

func TestBuild_RowNamesFollowTheSpecs(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(filepath.Join(dir, "wmss.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	b, _, _ := db.CreateJob(ctx, &wmss.Job{Kind: wmss.KindSFTBaseline, Spec: json.RawMessage(`{"kind":"sft_baseline","base_model":{"path":"m"},"data":{"path":"d"}}`)})
	w, _, _ := db.CreateJob(ctx, &wmss.Job{Kind: wmss.KindWMSS, Spec: json.RawMessage(`{"kind":"wmss","base_model":{"path":"m"},"data":{"path":"d"},"sft":{"steps":3},"joint":{"steps":2}}`)})
	in, err := report.Source{Store: db, DataDir: dir}.Build(ctx, w.ID, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range in.Eval.Rows {
		names = append(names, r.Model)
	}
	if got, want := strings.Join(names, "|"), "M0 (base)|M1 (after WMSS phase 1, SFT)|SFT baseline (2 epochs)|WMSS (3 steps SFT + 2 steps joint)"; got != want {
		t.Errorf("rows = %s, want %s", got, want)
	}
	if _, err := (report.Source{Store: db, DataDir: dir}).Build(ctx, w.ID, "job_missing"); wmss.ErrorCode(err) != wmss.ENOTFOUND || !strings.Contains(err.Error(), "baseline") {
		t.Errorf("unknown baseline: %v", err)
	}
}
