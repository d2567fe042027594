package bridge_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/bridge"
	"github.com/wmss/wmss/internal/sqlite"
	"github.com/wmss/wmss/training"
)

// The tests here drive the real engine (PyTorch through the embedded
// interpreter) with a tiny random-init model on a slice of GSM8K train:
// 32 rows, max length 256 byte-level tokens (17 of them keep a completion
// token, see gsm8kWindow), global batch 4 in micro-batches of 2.

// quiet drops the runners' log lines from the test output.
var quiet = slog.New(slog.DiscardHandler)

const gsm8kTrain = "../../shared/data/gsm8k/train.jsonl"
const gsm8kTest = "../../shared/data/gsm8k/test.jsonl"

func sharedData(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(rel)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	return p
}

// gsm8kWindow computes, from the data file alone, how many of the first n
// GSM8K train rows keep a completion token within maxLen byte-level tokens
// of the ChatML render, and how many of those are cut. The render of a
// row is <|im_start|> "user\n" question <|im_end|> "\n" <|im_start|>
// "assistant\n" answer <|im_end|> "\n": 19 tokens around the question's
// UTF-8 bytes, then the answer's bytes and 2 more; the first completion
// token sits at position bytes(question)+19.
func gsm8kWindow(t *testing.T, n, maxLen int) (kept, truncated int) {
	t.Helper()
	f, err := os.Open(sharedData(t, gsm8kTrain))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for i := 0; i < n && sc.Scan(); i++ {
		var row struct{ Question, Answer string }
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		prompt := len(row.Question) + 19
		if prompt < maxLen {
			kept++
			if prompt+len(row.Answer)+2 > maxLen {
				truncated++
			}
		}
	}
	return kept, truncated
}

// writeCorpus writes the worked answers of GSM8K train rows 1000–1029 as a
// pretraining corpus (paragraphs separated by blank lines).
func writeCorpus(t *testing.T) string {
	t.Helper()
	f, err := os.Open(sharedData(t, gsm8kTrain))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for i := 0; sc.Scan() && i < 1030; i++ {
		if i < 1000 {
			continue
		}
		var row struct{ Answer string }
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		b.WriteString(row.Answer + "\n\n")
	}
	path := filepath.Join(t.TempDir(), "corpus.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// tinySpec is the pipeline spec of these tests; kind "wmss" or "sft_baseline".
func tinySpec(t *testing.T, kind string, corpus string, extra string) string {
	pretrain := ""
	if corpus != "" {
		pretrain = fmt.Sprintf(`, "pretrain": {"corpus": %q, "steps": 3,
			"optimizer": {"lr": 2e-3, "warmup_ratio": 0, "schedule": "cosine", "global_batch": 4, "micro_batch": 2, "max_length": 128}}`, corpus)
	}
	return fmt.Sprintf(`{"kind": %q, "seed": 11,
		"base_model": {"init": {"size": "tiny", "seed": 3}%s},
		"data": {"path": %q, "format": "gsm8k", "limit": 32},
		"optimizer": {"lr": 1e-3, "warmup_ratio": 0.25, "schedule": "linear", "global_batch": 4, "micro_batch": 2, "max_length": 256},
		"checkpoint": {"every_steps": 2, "keep_last": 2}%s}`, kind, pretrain, sharedData(t, gsm8kTrain), extra)
}

func openStore(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func createJob(t *testing.T, store wmss.JobStore, kind wmss.JobKind, spec string, created time.Time) *wmss.Job {
	t.Helper()
	j, _, err := store.CreateJob(context.Background(), &wmss.Job{Kind: kind, Spec: json.RawMessage(spec), CreatedAt: created})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// runner starts a runner over the real engine until the test ends.
func runner(t *testing.T, store wmss.JobStore, dataDir string, heldout *training.DataSpec) *training.Runner {
	t.Helper()
	r := training.NewRunner(store, bridge.NewEngine(ip), training.RunnerOptions{DataDir: dataDir, Heldout: heldout, Poll: 50 * time.Millisecond, Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := r.Run(ctx); err != nil {
			t.Errorf("runner: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

func waitEnd(t *testing.T, store wmss.JobStore, id wmss.JobID, limit time.Duration, states ...wmss.JobState) *wmss.Job {
	t.Helper()
	if len(states) == 0 {
		states = []wmss.JobState{wmss.StateSucceeded, wmss.StateFailed, wmss.StateCancelled}
	}
	deadline := time.Now().Add(limit)
	for {
		j, err := store.GetJob(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(states, j.State) {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s after %v", id, j.State, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func jobMetrics(t *testing.T, store wmss.JobStore, id wmss.JobID, phase string) []wmss.Metric {
	t.Helper()
	ms, err := store.ListMetrics(context.Background(), id, phase)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func jobEvents(t *testing.T, store wmss.JobStore, id wmss.JobID) []wmss.Event {
	t.Helper()
	ev, err := store.ListEvents(context.Background(), id, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// liveHandles lists the engine's models, datasets, trainers and pending
// tokenizations whose handle starts with prefix.
func liveHandles(t *testing.T, prefix string) []string {
	t.Helper()
	var h map[string][]string
	raw, err := ip.Call(context.Background(), "handles", nil)
	if err == nil {
		err = json.Unmarshal(raw, &h)
	}
	if err != nil {
		t.Fatal(err)
	}
	p, err := bridge.CallInto[map[string][]string](context.Background(), ip, "wmss_engine.data:pending", nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, list := range [][]string{h["models"], h["datasets"], h["trainers"], p["handles"]} {
		for _, x := range list {
			if strings.HasPrefix(x, prefix) {
				out = append(out, x)
			}
		}
	}
	return out
}

func TestEngine_TokenizeAndStep(t *testing.T) {
	ctx := context.Background()
	eng := bridge.NewEngine(ip)
	dir := t.TempDir()
	if err := eng.InitModel(ctx, training.InitModelRequest{Out: dir, Size: "tiny", Seed: 1}); err != nil {
		t.Fatal(err)
	}
	// ChatML render of (ab → cd) with the byte-level tokenizer: 25 tokens,
	// supervised c, d, <|im_end|> at positions 21–23.
	samples := []training.Sample{
		{Prompt: "ab", Completion: "cd", Line: 1},
		{Messages: []training.Message{{Role: "user", Content: "ab"}, {Role: "assistant", Content: "cd"}}, Line: 2},
		{Prompt: "ab", Completion: "", Line: 3},
	}
	lens, err := eng.TokenizeDataset(ctx, "t/data", dir, samples, 23)
	if err != nil {
		t.Fatal(err)
	}
	want := []training.TokenizedLength{{Tokens: 25, SupervisedInWindow: 2}, {Tokens: 25, SupervisedInWindow: 2}}
	if !slices.Equal(lens[:2], want) || lens[2].Error != training.ReasonEmptyCompletion || !strings.Contains(lens[2].Message, "line 3") {
		t.Fatalf("lengths %+v", lens)
	}
	reg, err := eng.RegisterTokenized(ctx, "t/data", []int{0, 1}, 64)
	if err != nil || reg.Samples != 2 || reg.SupervisedTokens != 6 {
		t.Fatalf("register: %+v, %v", reg, err)
	}
	if err := eng.LoadModel(ctx, "t/m", dir); err != nil {
		t.Fatal(err)
	}
	if err := eng.CreateTrainer(ctx, training.TrainerConfig{Handle: "t/tr", Strong: "t/m", Clip: 1}); err != nil {
		t.Fatal(err)
	}
	res, err := eng.Step(ctx, training.StepRequest{Trainer: "t/tr", Dataset: "t/data", Indices: []int{0, 1}, MicroBatch: 1, LR: 1e-3, LossPositions: training.LossCompletion})
	if err != nil {
		t.Fatal(err)
	}
	// A random-init model predicts about uniformly over its 320 ids: loss ≈ ln 320.
	if res.Skipped || res.Loss == nil || math.Abs(*res.Loss-math.Log(320)) > 0.3 || res.SupervisedTokens != 6 || res.GradNorm <= 0 || len(res.Stats) == 0 {
		t.Errorf("step %+v (loss %v), want loss ≈ ln 320 = %.3f over 6 tokens", res, res.Loss, math.Log(320))
	}
	// A λ given to an SFT trainer is an engine exception with type and message.
	lam := 0.5
	_, err = eng.Step(ctx, training.StepRequest{Trainer: "t/tr", Dataset: "t/data", Indices: []int{0}, LR: 1e-3, Lambda: &lam, LossPositions: training.LossCompletion})
	var ee *training.EngineError
	if !errors.As(err, &ee) || ee.Type != "ValueError" || ee.Op != "joint_step" || !strings.Contains(ee.Traceback, "Traceback") {
		t.Errorf("joint step on an SFT trainer: %v (%+v)", err, ee)
	}
	for _, h := range []string{"t/tr", "t/m", "t/data"} {
		if err := eng.Release(ctx, h); err != nil {
			t.Error(err)
		}
	}
}

// The full WMSS pipeline (init → pretrain → SFT → entropies → selection →
// joint → extract) and the SFT baseline both succeed on the real engine,
// with metrics, artifacts and a loadable extracted model whose held-out
// loss is finite and equal to the one the job measured.
func TestEngine_PipelineWMSSAndBaseline(t *testing.T) {
	start := time.Now()
	dataDir := t.TempDir()
	store := openStore(t, filepath.Join(dataDir, "wmss.db"))
	heldout := &training.DataSpec{Path: sharedData(t, gsm8kTest), Format: training.FormatGSM8K, Limit: 8, LengthPolicy: training.LengthTruncate}
	r := runner(t, store, dataDir, heldout)
	now := time.Now()
	w := createJob(t, store, wmss.KindWMSS, tinySpec(t, "wmss", writeCorpus(t), ""), now)
	b := createJob(t, store, wmss.KindSFTBaseline, tinySpec(t, "sft_baseline", "", ""), now.Add(time.Second))
	r.Wake()
	for _, id := range []wmss.JobID{w.ID, b.ID} {
		j := waitEnd(t, store, id, 5*time.Minute)
		if j.State != wmss.StateSucceeded {
			t.Fatalf("job %s (%s): %s: %s", id, j.Kind, j.State, j.Error)
		}
	}
	t.Logf("both jobs: %.1f s wall", time.Since(start).Seconds())

	ctx := context.Background()
	eng := bridge.NewEngine(ip)
	kept, truncated := gsm8kWindow(t, 32, 256)
	steps := (kept + 3) / 4 // optimizer steps per epoch, global batch 4
	for _, c := range []struct {
		id       wmss.JobID
		phases   map[string]int // metric phase → steps
		lastHeld string
	}{
		{w.ID, map[string]int{"pretrain": 3, "sft": steps, "joint": steps}, "joint"},
		{b.ID, map[string]int{"sft": 2 * steps}, "sft"},
	} {
		j, _ := store.GetJob(ctx, c.id)
		var sum training.Summary
		if err := json.Unmarshal(j.Summary, &sum); err != nil {
			t.Fatal(err)
		}
		if d := sum.Data; d.Read != 32 || d.Kept != kept || d.Truncated != truncated || d.Dropped[training.ReasonNoSupervisedTokens] != 32-kept {
			t.Errorf("%s: data: read %d, kept %d, truncated %d, dropped %v; want 32, %d, %d, %d no_supervised_tokens",
				c.id, d.Read, d.Kept, d.Truncated, d.Dropped, kept, truncated, 32-kept)
		}
		for phase, steps := range c.phases {
			ms := jobMetrics(t, store, c.id, phase)
			if len(ms) != steps {
				t.Errorf("%s %s: %d metrics, want %d", c.id, phase, len(ms), steps)
				continue
			}
			for _, m := range ms {
				l := m.Values["loss"]
				if !(l > 0) || math.IsInf(l, 0) || !(m.Values["lr"] > 0) || !(m.Values["grad_norm"] > 0) || !(m.Values["tokens_per_s"] > 0) {
					t.Errorf("%s %s step %d: values %v", c.id, phase, m.Step, m.Values)
				}
				if _, ok := m.Values["lambda"]; ok != (phase == "joint") {
					t.Errorf("%s %s step %d: lambda present = %v", c.id, phase, m.Step, ok)
				}
			}
			if phase == "sft" && !(ms[len(ms)-1].Values["loss"] < ms[0].Values["loss"]) {
				t.Errorf("%s: SFT loss did not fall: %v → %v", c.id, ms[0].Values["loss"], ms[len(ms)-1].Values["loss"])
			}
		}
		// The extracted model loads as a plain model; its held-out loss is
		// finite and the one the job recorded after its last phase.
		model := filepath.Join(dataDir, sum.Model)
		h := "check/" + string(c.id)
		if err := eng.LoadModel(ctx, h+"/m", model); err != nil {
			t.Fatal(err)
		}
		ds, err := training.LoadData(*heldout)
		if err != nil {
			t.Fatal(err)
		}
		lens, err := eng.TokenizeDataset(ctx, h+"/d", model, ds.Samples, 256)
		if err != nil {
			t.Fatal(err)
		}
		var keep []int
		for i, l := range lens {
			if l.Error == "" && l.SupervisedInWindow > 0 {
				keep = append(keep, i)
			}
		}
		if _, err := eng.RegisterTokenized(ctx, h+"/d", keep, 256); err != nil {
			t.Fatal(err)
		}
		got, err := eng.HeldoutLoss(ctx, h+"/m", h+"/d")
		if err != nil || got.Loss == nil || math.IsNaN(*got.Loss) || math.IsInf(*got.Loss, 0) {
			t.Fatalf("held-out loss of the extracted model: %+v, %v", got, err)
		}
		var recorded *float64
		for _, p := range sum.Phases {
			if p.Name == c.lastHeld {
				recorded = p.HeldoutLoss
			}
		}
		if recorded == nil || math.Abs(*recorded-*got.Loss) > 1e-6 {
			t.Errorf("%s: held-out loss of the extracted model %v, the job recorded %v", c.id, *got.Loss, recorded)
		}
		_ = eng.Release(ctx, h+"/m")
		_ = eng.Release(ctx, h+"/d")
	}
	for _, id := range []wmss.JobID{w.ID, b.ID} {
		if left := liveHandles(t, string(id)); len(left) > 0 {
			t.Errorf("job %s left engine handles %v", id, left)
		}
	}
	arts, _ := store.ListArtifacts(ctx, w.ID)
	var names []string
	for _, a := range arts {
		names = append(names, a.Name)
	}
	for _, want := range []string{"selection.jsonl", "selection.summary.json", "model/config.json", "model/model.safetensors", "model/tokenizer.json"} {
		if !slices.Contains(names, want) {
			t.Errorf("wmss artifact %s missing (have %v)", want, names)
		}
	}
}

// childEnv configures TestPipelineChildProcess: the database, the data
// directory, and the step call at which the child's engine hangs (phase
// and 1-based step of that phase), so that the parent can SIGKILL it there.
const childEnv = "WMSS_PIPELINE_CHILD"

// hangingEngine is the real engine, except that it never returns from the
// step given by hangPhase/hangStep (joint steps carry λ, SFT steps do not).
type hangingEngine struct {
	*bridge.Engine
	joint    bool
	hangStep int
	sft, jnt int
}

func (h *hangingEngine) Step(ctx context.Context, r training.StepRequest) (training.StepResult, error) {
	n := 0
	switch {
	case r.Lambda != nil:
		h.jnt++
		n = h.jnt
	case strings.HasSuffix(r.Dataset, "/corpus"):
	default:
		h.sft++
		n = h.sft
	}
	if n == h.hangStep && (r.Lambda != nil) == h.joint {
		time.Sleep(time.Hour) // the parent kills the process here (a sleep, not select{}: no deadlock panic)
	}
	return h.Engine.Step(ctx, r)
}

// TestPipelineChildProcess is the child half of the resume test (the
// os/exec helper-process pattern): it runs the runner on a database until
// its engine hangs and the parent kills it with SIGKILL.
func TestPipelineChildProcess(t *testing.T) {
	cfg := os.Getenv(childEnv)
	if cfg == "" {
		t.Skip("runs only as the child of TestEngine_TrueResume")
	}
	parts := strings.Split(cfg, "|")
	step, _ := strconv.Atoi(parts[3])
	db, err := sqlite.Open(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	eng := &hangingEngine{Engine: bridge.NewEngine(ip), joint: parts[2] == "joint", hangStep: step}
	r := training.NewRunner(db, eng, training.RunnerOptions{DataDir: parts[1], Poll: 50 * time.Millisecond, Logger: quiet})
	_ = r.Run(context.Background())
}

// runChildUntil runs the job in a child process and kills it with SIGKILL
// once the store shows metric step ≥ step of phase.
func runChildUntil(t *testing.T, store wmss.JobStore, dbPath, dataDir string, id wmss.JobID, phase string, hang, step int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestPipelineChildProcess$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|%s|%s|%d", childEnv, dbPath, dataDir, phase, hang))
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(3 * time.Minute)
	for {
		select {
		case err := <-exited:
			t.Fatalf("child exited before the kill: %v\n%s", err, out)
		case <-deadline:
			_ = cmd.Process.Kill()
			t.Fatalf("child did not reach %s step %d\n%s", phase, step, out)
		case <-time.After(50 * time.Millisecond):
		}
		if ms := jobMetrics(t, store, id, phase); len(ms) > 0 && ms[len(ms)-1].Step >= step {
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	err := <-exited
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !strings.Contains(ee.Error(), "killed") {
		t.Fatalf("child ended with %v, want killed", err)
	}
}

// TRUE RESUME (issue 4, item 6): the job is SIGKILLed twice, in the middle
// of SFT and in the middle of joint training (each time one step after a
// checkpoint), and resumed in a new process each time; every loss, lr and
// λ of the finished job equals an uninterrupted run with the same seed
// (|Δ| ≤ 1e-6), and after each resume the lr follows the schedule (T04).
func TestEngine_TrueResume(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("child process")
	}
	spec := tinySpec(t, "wmss", "", "")
	// Uninterrupted reference, in this process.
	refDir := t.TempDir()
	refStore := openStore(t, filepath.Join(refDir, "wmss.db"))
	ref := createJob(t, refStore, wmss.KindWMSS, spec, time.Now())
	runner(t, refStore, refDir, nil).Wake()
	if j := waitEnd(t, refStore, ref.ID, 5*time.Minute); j.State != wmss.StateSucceeded {
		t.Fatalf("reference run: %s: %s", j.State, j.Error)
	}

	dataDir := t.TempDir()
	dbPath := filepath.Join(dataDir, "wmss.db")
	store := openStore(t, dbPath)
	job := createJob(t, store, wmss.KindWMSS, spec, time.Now())
	// Child 1: hangs in SFT step 4 after step 3 is stored (checkpoint at 2).
	runChildUntil(t, store, dbPath, dataDir, job.ID, "sft", 4, 3)
	// Child 2: resumes SFT from step 2, runs selection, hangs in joint step 4.
	runChildUntil(t, store, dbPath, dataDir, job.ID, "joint", 4, 3)
	// This process: resumes joint training from step 2 and finishes.
	runner(t, store, dataDir, nil).Wake()
	j := waitEnd(t, store, job.ID, 5*time.Minute)
	if j.State != wmss.StateSucceeded {
		t.Fatalf("resumed job: %s: %s", j.State, j.Error)
	}

	var resumed []string
	requeued := 0
	for _, e := range jobEvents(t, store, job.ID) {
		switch e.Type {
		case "phase_resumed":
			var d struct {
				Phase string
				Step  int
			}
			_ = json.Unmarshal(e.Data, &d)
			resumed = append(resumed, fmt.Sprintf("%s@%d", d.Phase, d.Step))
		case "requeued":
			requeued++
		}
	}
	if !slices.Equal(resumed, []string{"sft@2", "joint@2"}) || requeued != 2 {
		t.Errorf("resumed at %v after %d requeues, want [sft@2 joint@2] after 2", resumed, requeued)
	}
	for _, phase := range []string{"sft", "joint"} {
		got, want := jobMetrics(t, store, job.ID, phase), jobMetrics(t, refStore, ref.ID, phase)
		if len(got) != len(want) || len(got) < 4 {
			t.Fatalf("%s: %d steps, uninterrupted %d, want the same, ≥ 4", phase, len(got), len(want))
		}
		for i := range got {
			g, w := got[i].Values, want[i].Values
			if d := math.Abs(g["loss"] - w["loss"]); d > 1e-6 || g["lr"] != w["lr"] || g["lambda"] != w["lambda"] {
				t.Errorf("%s step %d: loss %.9f lr %g λ %g; uninterrupted %.9f %g %g (|Δloss| %.2g)",
					phase, got[i].Step, g["loss"], g["lr"], g["lambda"], w["loss"], w["lr"], w["lambda"], d)
			} else {
				t.Logf("%s step %d: loss %.9f, uninterrupted %.9f, |Δ| %.1e", phase, got[i].Step, g["loss"], w["loss"], d)
			}
		}
	}
	var sum training.Summary
	_ = json.Unmarshal(j.Summary, &sum)
	if sum.Resumes != 2 {
		t.Errorf("summary resumes = %d, want 2", sum.Resumes)
	}
}

// Cancel on the real engine stops within one step and keeps the checkpoint;
// an engine exception fails its job with the Python error text; the next
// queued job still succeeds.
func TestEngine_CancelAndFailureIsolation(t *testing.T) {
	dataDir := t.TempDir()
	store := openStore(t, filepath.Join(dataDir, "wmss.db"))
	// A base model directory whose tokenizer is missing: the engine raises.
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, "config.json"), []byte(`{"model_type": "qwen3"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	badSpec := strings.Replace(tinySpec(t, "sft_baseline", "", ""), `{"init": {"size": "tiny", "seed": 3}}`,
		fmt.Sprintf(`{"path": %q}`, broken), 1)
	now := time.Now()
	long := createJob(t, store, wmss.KindSFTBaseline, tinySpec(t, "sft_baseline", "", `, "sft": {"epochs": 4}`), now)
	bad := createJob(t, store, wmss.KindSFTBaseline, badSpec, now.Add(time.Second))
	ok := createJob(t, store, wmss.KindSFTBaseline, tinySpec(t, "sft_baseline", "", `, "sft": {"steps": 1}`), now.Add(2*time.Second))
	r := runner(t, store, dataDir, nil)
	r.Wake()

	// Cancel once step 3 is stored (a checkpoint was written at step 2).
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if ms := jobMetrics(t, store, long.ID, "sft"); len(ms) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the long job did not reach step 3")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := store.RequestCancel(context.Background(), long.ID); err != nil {
		t.Fatal(err)
	}
	before := len(jobMetrics(t, store, long.ID, "sft"))
	cancelAt := time.Now()
	r.Cancel(long.ID)
	j := waitEnd(t, store, long.ID, time.Minute)
	t.Logf("cancelled %.2f s after the request", time.Since(cancelAt).Seconds())
	if j.State != wmss.StateCancelled {
		t.Fatalf("long job %s: %s", j.State, j.Error)
	}
	if after := len(jobMetrics(t, store, long.ID, "sft")); after > before+1 {
		t.Errorf("%d steps stored after the cancel, want at most the one in flight", after-before)
	}
	var st training.ResumeState
	if err := json.Unmarshal(j.Resume, &st); err != nil || st.Checkpoint == "" {
		t.Fatalf("resume state %+v, %v", st, err)
	}
	if _, err := os.Stat(filepath.Join(training.JobDir(dataDir, long.ID), st.Checkpoint, "trainer.pt")); err != nil {
		t.Errorf("checkpoint not kept: %v", err)
	}

	j = waitEnd(t, store, bad.ID, time.Minute)
	t.Logf("engine failure stored as: %s", j.Error)
	if j.State != wmss.StateFailed || !strings.Contains(j.Error, "TokenizerError") || !strings.Contains(j.Error, "tokenizer.json: not found") {
		t.Errorf("bad job: %s %q; want failed with the Python exception type and message", j.State, j.Error)
	}
	found := false
	for _, e := range jobEvents(t, store, bad.ID) {
		if e.Type == "engine_error" && strings.Contains(string(e.Data), "Traceback") {
			found = true
		}
	}
	if !found {
		t.Error("no engine_error event with the traceback")
	}
	if j := waitEnd(t, store, ok.ID, 2*time.Minute); j.State != wmss.StateSucceeded {
		t.Errorf("job after the failures: %s: %s", j.State, j.Error)
	}
	for _, id := range []wmss.JobID{long.ID, bad.ID, ok.ID} {
		if left := liveHandles(t, string(id)); len(left) > 0 {
			t.Errorf("job %s left engine handles %v", id, left)
		}
	}
}
