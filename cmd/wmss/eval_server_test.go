package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/bridge"
	"github.com/wmss/wmss/evaluators/benchmarks"
	"github.com/wmss/wmss/evaluators/ciout"
	"github.com/wmss/wmss/evaluators/evalrun"
	"github.com/wmss/wmss/internal/apiclient"
)

// closedURL returns the URL of a local port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// TestEvalServer_UsageErrors checks the flags of `wmss eval --server`,
// which fail before any request (exit 2), and an unreachable server (exit
// 3). No engine or server is needed.
func TestEvalServer_UsageErrors(t *testing.T) {
	url := closedURL(t)
	out := t.TempDir()
	base := []string{"eval", "--server", url, "--model", "mdl_x", "--out", out}
	for _, tc := range []struct {
		name    string
		args    []string
		mention string
	}{
		{"BatchSize", []string{"--benchmarks", "gsm8k", "--batch-size", "4"}, "--batch-size: not supported with --server"},
		{"Thinking", []string{"--benchmarks", "gsm8k", "--thinking"}, "--thinking: not supported with --server"},
		{"DataDir", []string{"--benchmarks", "gsm8k", "--data-dir", out}, "--data-dir: not supported with --server"},
		{"KAboveSamples", []string{"--benchmarks", "gsm8k", "--samples", "2", "--k", "1,3"}, "--k[1]: pass@3 needs 1 ≤ k ≤ samples (2)"},
		{"BadTopP", []string{"--benchmarks", "gsm8k", "--top-p", "1.5"}, "--top-p:"},
		{"MinNotEvaluated", []string{"--benchmarks", "gsm8k", "--min", "svamp=0.1"}, "svamp is not among the benchmarks"},
		{"HugeSeed", []string{"--benchmarks", "gsm8k", "--seed", "18446744073709551615"}, "--seed: with --server the seed must be at most"},
		{"BadKey", []string{"--benchmarks", "gsm8k", "--idempotency-key", "a b"}, "--idempotency-key: want printable ASCII"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, append(slices.Clone(base), tc.args...)...)
			if code != exitUsage || !strings.Contains(stderr, tc.mention) {
				t.Errorf("exit %d, want %d; stderr:\n%s\nwant it to mention %q", code, exitUsage, stderr, tc.mention)
			}
		})
	}
	for _, tc := range []struct{ name, server, mention string }{
		{"NotHTTP", "ftp://example.com", `--server: want an http:// or https:// URL of a wmss server, got "ftp://example.com"`},
		{"NoHost", "http://", "--server: want an http://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, "eval", "--server", tc.server, "--model", "mdl_x", "--benchmarks", "gsm8k", "--out", out)
			if code != exitUsage || !strings.Contains(stderr, tc.mention) {
				t.Errorf("exit %d, want %d; stderr:\n%s\nwant it to mention %q", code, exitUsage, stderr, tc.mention)
			}
		})
	}
	t.Run("KeyWithoutServer", func(t *testing.T) {
		code, _, stderr := runCmd(t, "eval", "--model", fakeModelDir(t), "--benchmarks", "gsm8k", "--out", out, "--idempotency-key", "k")
		if code != exitUsage || !strings.Contains(stderr, "--idempotency-key: only with --server") {
			t.Errorf("exit %d\n%s", code, stderr)
		}
	})
	t.Run("Unreachable", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "out")
		code, _, stderr := runCmd(t, "eval", "--server", url, "--model", "mdl_x", "--benchmarks", "gsm8k", "--out", dir)
		if code != exitInternal || !strings.Contains(stderr, "server "+url+" unreachable") {
			t.Errorf("exit %d, want %d\n%s", code, exitInternal, stderr)
		}
		for _, f := range []string{ciout.ResultsFile, ciout.ItemsFile, ciout.JUnitFile} {
			if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
				t.Errorf("%s written although nothing ran", f)
			}
		}
	})
}

// TestFillPassAtK checks pass@k computed from item records against the
// closed form 1 − C(n−c, k)/C(n, k) worked by hand, with the server's
// values kept and grader faults left out.
func TestFillPassAtK(t *testing.T) {
	var items []evalrun.Item
	add := func(id string, verdicts ...string) {
		for j, v := range verdicts {
			items = append(items, evalrun.Item{Benchmark: "gsm8k", ID: id, Sample: j, Verdict: v, Correct: v == "equal"})
		}
	}
	add("p1", "equal", "not_equal", "no_answer") // n 3, c 1
	add("p2", "equal", "equal", "not_equal")     // n 3, c 2
	add("p3", "not_equal", "error", "no_answer") // n 2 scored, c 0
	add("p4", "error", "error", "error")         // nothing scored
	items = append(items, evalrun.Item{Benchmark: "svamp", ID: "s1", Verdict: "equal", Correct: true})
	res := &evalrun.Results{Benchmarks: []evalrun.BenchmarkResult{
		// pass@1 as a server would send it (kept as is, even if it
		// disagreed); pass@5 is not asked for and goes.
		{Name: "gsm8k", PassAtK: map[string]float64{"pass@1": 0.25, "pass@5": 0.9}},
		{Name: "svamp", PassAtK: map[string]float64{}},
	}}
	if err := fillPassAtK(res, items, []int{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	// pass@2: p1 1 − C(2,2)/C(3,2) = 2/3, p2 1 − 0 = 1, p3 1 − C(2,2)/C(2,2) = 0.
	// pass@3: p1 1, p2 1; p3 has 2 < 3 scored samples and is left out.
	want := map[string]float64{"pass@1": 0.25, "pass@2": (2.0/3 + 1 + 0) / 3, "pass@3": 1}
	got := res.Benchmarks[0].PassAtK
	if len(got) != len(want) {
		t.Fatalf("gsm8k pass@k %v, want %v", got, want)
	}
	for k, w := range want {
		if math.Abs(got[k]-w) > 1e-12 {
			t.Errorf("gsm8k %s = %v, want %v", k, got[k], w)
		}
	}
	// One sample per problem: pass@1 = 1, pass@2 and pass@3 undefined.
	if s := res.Benchmarks[1].PassAtK; !reflect.DeepEqual(s, map[string]float64{"pass@1": 1}) {
		t.Errorf("svamp pass@k %v, want only pass@1 = 1", s)
	}
}

// TestJobTracker checks that a job's progress, read at whatever moments
// the polls fall on, becomes the progress lines of a local run, the
// benchmarks passed between two polls left out.
func TestJobTracker(t *testing.T) {
	var buf bytes.Buffer
	tr := newJobTracker(&lineProgress{w: &buf, last: map[string]int{}}, []string{"gsm8k", "svamp", "math500"}, 2)
	job := func(state string, p map[string]any) *apiclient.WmssJob {
		s := apiclient.WmssJobState(state)
		return &apiclient.WmssJob{State: &s, Progress: p}
	}
	prog := func(b string, step, total int) map[string]any {
		return map[string]any{"phase": "eval", "benchmark": b, "step": step, "total": total}
	}
	for _, j := range []*apiclient.WmssJob{
		job("queued", nil),
		job("running", nil),
		job("running", nil),
		job("running", prog("gsm8k", 0, 6)),
		job("running", prog("gsm8k", 6, 6)),
		// svamp is missed entirely between two polls.
		job("running", prog("math500", 3, 4)),
		job("succeeded", prog("math500", 4, 4)),
	} {
		tr.update(j)
	}
	tr.finish(&evalrun.Results{Benchmarks: []evalrun.BenchmarkResult{
		{Name: "gsm8k", Problems: 3, Samples: 2}, {Name: "svamp", Problems: 3, Samples: 2}, {Name: "math500", Problems: 2, Samples: 2},
	}})
	got := regexp.MustCompile(`\(\S+\)|in \S+;`).ReplaceAllString(buf.String(), "")
	want := "gsm8k: generating on the server, 2 samples per problem\n" +
		"gsm8k: generated  scoring 6 samples\n" +
		"gsm8k: scored 6/6 \n" +
		"svamp: generating on the server, 2 samples per problem\n" +
		"math500: generating on the server, 2 samples per problem\n" +
		"math500: generated  scoring 4 samples\n" +
		"math500: scored 3/4 \n" +
		"math500: scored 4/4 \n" // from the summary: the last poll saw the job ended
	if got != want {
		t.Errorf("progress lines:\n%s\nwant:\n%s", got, want)
	}
}

// serverHarness is `wmss serve` running in this process on a free port.
type serverHarness struct {
	url     string
	dataDir string
	c       *apiclient.ClientWithResponses
}

// startServer runs the server as TestEndToEnd_RealEngine does, with the
// real engine, the benchmark data at bench and the bearer token token.
func startServer(t *testing.T, bench, token string) *serverHarness {
	t.Helper()
	t.Setenv("WMSS_TOKEN", token)
	t.Setenv("WMSS_BENCH_DATA", bench)
	h := &serverHarness{dataDir: t.TempDir()}
	var logs bytes.Buffer
	m := NewMain(io.Discard, &logs)
	if err := m.ParseFlags([]string{"--addr", "127.0.0.1:0", "--data-dir", h.dataDir}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case a := <-m.Addr:
		h.url = "http://" + a.String()
	case err := <-done:
		t.Fatalf("serve ended: %v\n%s", err, logs.String())
	}
	c, err := apiclient.NewClientWithResponses(h.url, apiclient.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+token)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	h.c = c
	return h
}

// evalJobs lists the server's evaluation jobs, newest first.
func (h *serverHarness) evalJobs(t *testing.T) []apiclient.WmssJob {
	t.Helper()
	r, err := h.c.ListEvalsWithResponse(context.Background(), &apiclient.ListEvalsParams{})
	if err != nil || r.JSON200 == nil || r.JSON200.Jobs == nil {
		t.Fatalf("list evals: %v %s", err, r.Body)
	}
	return *r.JSON200.Jobs
}

// TestEvalServer_RealEngine runs `wmss eval --server` against a real
// server and checks it against the in-process run of the same model:
// same model hash, dataset hashes, scores and (greedy, and seeded
// sampling) per-item outputs; then the gates, idempotent reuse of the
// job, pass@k beyond the server's, the server's input errors (exit 2) and
// Ctrl-C cancelling the job.
func TestEvalServer_RealEngine(t *testing.T) {
	bench := testDataDir(t)
	if _, err := bridge.Start(bridge.Options{}); err != nil {
		t.Skipf("embedded engine unavailable: %v", err)
	}
	h := startServer(t, bench, "eval-token")
	ctx := context.Background()
	mr, err := h.c.CreateModelWithResponse(ctx, apiclient.CreateModelJSONRequestBody{Name: ptr("tiny"), Size: ptr("tiny"), Seed: ptr(1)})
	if err != nil || mr.JSON201 == nil {
		t.Fatalf("create model: %v %s", err, mr.Body)
	}
	id, modelDir := *mr.JSON201.Id, filepath.Join(h.dataDir, *mr.JSON201.Path)
	root := t.TempDir()
	common := []string{"--benchmarks", "gsm8k,svamp", "--limit", "3", "--max-new-tokens", "12", "--progress", "lines"}
	remote := func(out string, extra ...string) (int, string, string) {
		args := append([]string{"eval", "--server", h.url, "--model", id, "--out", filepath.Join(root, out)}, common...)
		return runCmd(t, append(args, extra...)...)
	}
	local := func(out string, extra ...string) (int, string, string) {
		args := append([]string{"eval", "--model", modelDir, "--data-dir", bench, "--out", filepath.Join(root, out)}, common...)
		return runCmd(t, append(args, extra...)...)
	}
	results := func(out string) *ciout.Results {
		t.Helper()
		r, err := ciout.ReadResults(filepath.Join(root, out, ciout.ResultsFile))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// same checks that two runs' reports agree but for timing and the
	// model's name (the server's id against a local directory).
	same := func(t *testing.T, remoteOut, localOut string) {
		t.Helper()
		ra, la := results(remoteOut), results(localOut)
		hash, _ := evalrun.ModelHash(modelDir)
		if ra.Model != id || ra.ModelHash != hash || la.ModelHash != hash || !reflect.DeepEqual(ra.Generation, la.Generation) ||
			len(ra.Benchmarks) != 2 || len(la.Benchmarks) != 2 || !ra.Passed {
			t.Fatalf("results.json\nremote %+v\nlocal  %+v", ra, la)
		}
		for i, name := range []string{"gsm8k", "svamp"} {
			r, l := ra.Benchmarks[i], la.Benchmarks[i]
			ref, _ := benchmarks.Load(bench, name)
			r.Seconds, l.Seconds = 0, 0
			if r.Name != name || r.Problems != 3 || r.DatasetSHA256 != ref.SHA256 || r.ModelHash != hash ||
				!reflect.DeepEqual(r.BenchmarkResult, l.BenchmarkResult) || r.Scored != l.Scored || r.Correct != l.Correct ||
				!reflect.DeepEqual(r.MeanAtN, l.MeanAtN) || !reflect.DeepEqual(r.Generation, l.Generation) {
				t.Errorf("%s\nremote %+v\nlocal  %+v", name, r, l)
			}
		}
		ri, li := readItems(t, filepath.Join(root, remoteOut)), readItems(t, filepath.Join(root, localOut))
		if !reflect.DeepEqual(outputs(ri), outputs(li)) {
			t.Errorf("items differ\nremote %+v\nlocal  %+v", ri, li)
		}
		if ri[0].Prompt == "" || ri[0].Strict == nil || ri[0].FinishReason == "" || ri[0].TimeMS <= 0 {
			t.Errorf("remote item lacks fields the artifact carries: %+v", ri[0])
		}
	}

	code, stdout, stderr := remote("a")
	if code != exitPass {
		t.Fatalf("remote: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "wmss eval: job ") || !strings.Contains(stderr, "(created;") {
		t.Errorf("stderr lacks the job line:\n%s", stderr)
	}
	if code, stdout, stderr := local("l"); code != exitPass {
		t.Fatalf("local: exit %d\n%s\n%s", code, stdout, stderr)
	}
	same(t, "a", "l")
	if items := readItems(t, filepath.Join(root, "a")); len(items) != 6 {
		t.Errorf("%d items, want 6 (2 benchmarks × 3 problems)", len(items))
	}
	j := readJUnit(t, filepath.Join(root, "a"))
	if j.Tests != 2 || j.Failures != 0 || len(j.Suites) != 1 || len(j.Suites[0].Cases) != 2 ||
		j.Suites[0].Cases[0].Name != "gsm8k" || j.Suites[0].Cases[1].Name != "svamp" ||
		j.Suites[0].Cases[0].Classname != "wmss.eval" || j.Suites[0].Cases[0].Failure != nil {
		t.Errorf("junit.xml: %+v", j)
	}
	if !regexp.MustCompile(`(?m)^gsm8k\s+3\s+3\s+\d+\s+0\.\d{4}`).MatchString(stdout) {
		t.Errorf("stdout lacks the summary table:\n%s", stdout)
	}

	t.Run("MinGateReusesJob", func(t *testing.T) {
		code, stdout, stderr := remote("gate", "--min", "gsm8k=0.5")
		if code != exitGate || !strings.Contains(stdout, "FAILED: gsm8k score") {
			t.Fatalf("exit %d, want %d\n%s\n%s", code, exitGate, stdout, stderr)
		}
		if !strings.Contains(stderr, "reused: an identical earlier request created it") {
			t.Errorf("the same request did not reuse its job:\n%s", stderr)
		}
		if n := len(h.evalJobs(t)); n != 1 {
			t.Errorf("%d evaluation jobs on the server, want 1", n)
		}
		j := readJUnit(t, filepath.Join(root, "gate"))
		if j.Failures != 1 || j.Suites[0].Cases[0].Failure == nil || j.Suites[0].Cases[0].Failure.Type != "min" {
			t.Errorf("junit.xml: %+v", j)
		}
	})

	t.Run("SampledPassAtK", func(t *testing.T) {
		// The server computes pass@1 and pass@3; pass@2 comes from the items.
		extra := []string{"--samples", "3", "--k", "1,2", "--temperature", "1", "--seed", "7"}
		if code, stdout, stderr := remote("k", extra...); code != exitPass {
			t.Fatalf("remote: exit %d\n%s\n%s", code, stdout, stderr)
		}
		if code, stdout, stderr := local("kl", extra...); code != exitPass {
			t.Fatalf("local: exit %d\n%s\n%s", code, stdout, stderr)
		}
		same(t, "k", "kl")
		items := readItems(t, filepath.Join(root, "k"))
		for _, b := range results("k").Benchmarks {
			// n = 3 samples, c correct: pass@2 = 1 − C(3−c, 2)/C(3, 2).
			byC := []float64{0, 2.0 / 3, 1, 1}
			c := map[string]int{}
			for _, it := range items {
				if it.Benchmark == b.Name && it.Correct {
					c[it.ID]++
				}
			}
			sum := 0.0
			ref, _ := benchmarks.Load(bench, b.Name)
			for _, it := range ref.Items[:3] {
				sum += byC[c[it.ID]]
			}
			if len(b.PassAtK) != 2 || math.Abs(b.PassAtK["pass@2"]-sum/3) > 1e-12 {
				t.Errorf("%s pass@k %v, want pass@1 and pass@2 = %v", b.Name, b.PassAtK, sum/3)
			}
		}
	})

	t.Run("ServerInputErrors", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			args     []string
			mentions []string
		}{
			{"UnknownBenchmark", []string{"--model", id, "--benchmarks", "gsm8k,gsm9k"}, []string{"server: POST /v1/evals: 422", "benchmarks[1]", `unknown benchmark "gsm9k"`}},
			{"UnknownModel", []string{"--model", "mdl_nope", "--benchmarks", "gsm8k"}, []string{"server: POST /v1/evals: 404", ": model: "}},
			{"ModelOutsideRoot", []string{"--model", "../elsewhere", "--benchmarks", "gsm8k"}, []string{"server: POST /v1/evals: 4", "model"}},
			{"Temperature", []string{"--model", id, "--benchmarks", "gsm8k", "--temperature", "3"}, []string{"422", "generation.temperature"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "out")
				code, _, stderr := runCmd(t, append([]string{"eval", "--server", h.url, "--out", dir}, tc.args...)...)
				if code != exitUsage {
					t.Errorf("exit %d, want %d\n%s", code, exitUsage, stderr)
				}
				for _, m := range tc.mentions {
					if !strings.Contains(stderr, m) {
						t.Errorf("stderr lacks %q:\n%s", m, stderr)
					}
				}
			})
		}
		t.Run("WrongToken", func(t *testing.T) {
			t.Setenv("WMSS_TOKEN", "not-the-token")
			code, _, stderr := remote("token")
			if code != exitUsage || !strings.Contains(stderr, "401") || !strings.Contains(stderr, "WMSS_TOKEN") {
				t.Errorf("exit %d, want %d\n%s", code, exitUsage, stderr)
			}
		})
	})

	t.Run("JobFails", func(t *testing.T) {
		// "models" exists under the server's root, so the job is queued,
		// but it holds no config.json: the job fails (exit 3).
		code, _, stderr := runCmd(t, "eval", "--server", h.url, "--model", "models", "--benchmarks", "gsm8k", "--limit", "1",
			"--out", filepath.Join(root, "fail"))
		if code != exitInternal || !regexp.MustCompile(`job \S+ failed on the server: .*config\.json`).MatchString(stderr) {
			t.Errorf("exit %d, want %d\n%s", code, exitInternal, stderr)
		}
	})

	t.Run("InterruptCancelsJob", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		args := []string{"eval", "--server", h.url, "--model", id, "--benchmarks", "gsm8k", "--limit", "40",
			"--max-new-tokens", "64", "--out", filepath.Join(root, "int"), "--progress", "lines"}
		w := &signalWriter{on: "wmss eval: job ", do: cancel}
		code := run(ctx, args, io.Discard, w)
		stderr := w.String()
		m := regexp.MustCompile(`job (\S+) on `).FindStringSubmatch(stderr)
		if code != exitInternal || m == nil || !strings.Contains(stderr, "cancelled job "+m[1]+" on the server") {
			t.Fatalf("exit %d, want %d\n%s", code, exitInternal, stderr)
		}
		if j := waitFor(t, h.c, m[1], time.Minute); *j.State != apiclient.WmssJobState(wmss.StateCancelled) {
			t.Errorf("job %s: %s, want cancelled", m[1], *j.State)
		}
		// The same command again does not reuse the cancelled job.
		code, _, stderr2 := runCmd(t, args...)
		if code != exitPass || !strings.Contains(stderr2, m[1]+" of an identical earlier request") || !strings.Contains(stderr2, "(created;") {
			t.Errorf("rerun: exit %d\n%s", code, stderr2)
		}
	})
}

// signalWriter collects what is written and calls do once the text
// contains on.
type signalWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	on   string
	do   func()
	done bool
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.done && strings.Contains(w.buf.String(), w.on) {
		w.done = true
		w.do()
	}
	return len(p), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
