package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/evaluators/ciout"
	"github.com/wmss/wmss/evaluators/evaljob"
	"github.com/wmss/wmss/evaluators/evalrun"
	"github.com/wmss/wmss/evaluators/passk"
	"github.com/wmss/wmss/internal/apiclient"
)

// Client side of `wmss eval --server URL`: the evaluation runs as an
// evaluation job (POST /v1/evals) on a wmss server, and this process
// follows it, reads its summary and per-item results, and writes the same
// reports and applies the same gates as an in-process run (writeReports).

const (
	// serverPollInterval is how often the job is read while it runs; the
	// server updates an evaluation job's progress at most every 0.5 s.
	serverPollInterval = 500 * time.Millisecond
	// maxPollFailures is how many reads of the job in a row may fail
	// (server restarting, network blip) before the run is given up.
	maxPollFailures = 60
	// maxKeyAttempts bounds the Idempotency-Key suffixes tried past jobs
	// that failed or were cancelled (see createServerJob).
	maxKeyAttempts = 100
	// resultsPageSize is the page size of GET /v1/evals/{id}/results (its
	// maximum).
	resultsPageSize = 1000
	// serverRequestTimeout bounds one HTTP request, a page of results or
	// the items artifact included.
	serverRequestTimeout = 5 * time.Minute
)

// checkServerFlags checks the flags of a run on a server: a URL the client
// can use, no flag that an evaluation job's spec (api.EvalSpec) cannot
// carry, a seed the API's integer holds and a usable Idempotency-Key
// prefix. Errors are EINVALID naming the flag.
func checkServerFlags(f *evalFlags) error {
	u, err := url.Parse(f.server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return wmss.FieldErrorf("--server", "want an http:// or https:// URL of a wmss server, got %q", f.server)
	}
	why := map[string]string{
		"batch-size": "an evaluation job has no batch size setting (the server generates 8 prompts per batch)",
		"thinking":   "an evaluation job has no thinking-mode setting",
		"data-dir":   "the server reads its own benchmark data",
	}
	for _, name := range localOnlyFlags {
		if f.set[name] {
			return wmss.FieldErrorf("--"+name, "not supported with --server: %s", why[name])
		}
	}
	if f.cfg.Seed > math.MaxInt64 {
		return wmss.FieldErrorf("--seed", "with --server the seed must be at most %d, got %d", int64(math.MaxInt64), f.cfg.Seed)
	}
	if k := f.idemKey; k != "" {
		if len(k) > 200 {
			return wmss.FieldErrorf("--idempotency-key", "at most 200 bytes, got %d", len(k))
		}
		for _, r := range k {
			if r < 0x21 || r > 0x7e {
				return wmss.FieldErrorf("--idempotency-key", "want printable ASCII without spaces, got %q", k)
			}
		}
	}
	return nil
}

// serverError is a non-2xx answer of the server, with the fields of the
// problem document (RFC 9457) it sent.
type serverError struct {
	op     string // e.g. "POST /v1/evals"
	status int
	title  string
	field  string
	detail string
}

func (e *serverError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "server: %s: %d", e.op, e.status)
	if e.title != "" {
		b.WriteString(" " + e.title)
	}
	if e.field != "" {
		b.WriteString(": " + e.field)
	}
	if e.detail != "" {
		b.WriteString(": " + e.detail)
	}
	if e.status == http.StatusUnauthorized {
		b.WriteString(" (set WMSS_TOKEN to the server's bearer token)")
	}
	return b.String()
}

// problemError turns a non-2xx response into a *serverError, reading the
// problem document when the body is one.
func problemError(op string, status int, body []byte) error {
	e := &serverError{op: op, status: status, title: http.StatusText(status)}
	var p apiclient.ApiProblem
	if json.Unmarshal(body, &p) == nil && (p.Title != nil || p.Detail != nil) {
		e.title, e.field, e.detail = val(p.Title), val(p.Field), val(p.Detail)
	} else if s := strings.TrimSpace(string(body)); s != "" {
		e.detail = s[:min(len(s), 200)]
	}
	return e
}

// unreachableError wraps a failed HTTP exchange (no answer at all).
type unreachableError struct {
	url string
	err error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("server %s unreachable: %v", e.url, e.err)
}

func (e *unreachableError) Unwrap() error { return e.err }

// serverExit maps an error of the run on a server to an exit code: a 4xx
// answer is the caller's (2: bad flag value, unknown model or benchmark,
// wrong token); everything else is 3 (unreachable, 5xx, the job failed).
func serverExit(err error) int {
	var se *serverError
	if errors.As(err, &se) && se.status >= 400 && se.status < 500 {
		return exitUsage
	}
	return exitInternal
}

// newServerClient returns a client of the API at base that sends token as
// the bearer token when it is not "".
func newServerClient(base, token string) (*apiclient.ClientWithResponses, error) {
	return apiclient.NewClientWithResponses(base,
		apiclient.WithHTTPClient(&http.Client{Timeout: serverRequestTimeout}),
		apiclient.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			if token != "" {
				r.Header.Set("Authorization", "Bearer "+token)
			}
			return nil
		}))
}

// evalSpec is the body of POST /v1/evals for the flags f.
func evalSpec(f *evalFlags) apiclient.ApiEvalSpec {
	c := f.cfg
	seed := int(c.Seed) // checkServerFlags bounds it
	return apiclient.ApiEvalSpec{
		Model: &c.ModelDir, Benchmarks: &c.Benchmarks, Limit: &c.Limit,
		Generation: &apiclient.ApiGenerationSpec{
			MaxNewTokens: &c.MaxNewTokens, Temperature: &c.Temperature, TopP: &c.TopP, TopK: &c.TopK,
			Samples: &c.Samples, Seed: &seed,
		},
	}
}

// idempotencyPrefix is the Idempotency-Key prefix of spec: --idempotency-key
// when given, else "wmss-eval-" and the first 40 hex digits of the sha256
// of the request body, so that the same command reuses the same job.
func idempotencyPrefix(f *evalFlags, spec apiclient.ApiEvalSpec) string {
	if f.idemKey != "" {
		return f.idemKey
	}
	b, _ := json.Marshal(spec) // struct fields marshal in a fixed order
	sum := sha256.Sum256(b)
	return "wmss-eval-" + hex.EncodeToString(sum[:])[:40]
}

// evalServer runs the evaluation of f as a job on the server f.server,
// follows it with the progress display, fetches its summary and every
// per-item record, and writes the reports with the gates applied. Ctrl-C
// (ctx done) cancels the job on the server. It returns the exit code and
// the error to print.
func evalServer(ctx context.Context, f *evalFlags, stdout, stderr io.Writer) (int, error) {
	base, baseItems, err := readBaseline(f)
	if err != nil {
		return exitUsage, err
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return exitUsage, wmss.FieldErrorf("--out", "%v", err)
	}
	c, err := newServerClient(f.server, os.Getenv("WMSS_TOKEN"))
	if err != nil {
		return exitUsage, wmss.FieldErrorf("--server", "%v", err)
	}
	spec := evalSpec(f)
	job, created, err := createServerJob(ctx, c, f.server, spec, idempotencyPrefix(f, spec), stderr)
	if err != nil {
		if ctx.Err() != nil {
			return exitInternal, fmt.Errorf("interrupted while creating the job (%v); if the server queued it, the same command finds it again through its Idempotency-Key", ctx.Err())
		}
		return serverExit(err), err
	}
	id := val(job.Id)
	if f.progress != "none" {
		how := "created"
		if !created {
			how = "reused: an identical earlier request created it"
		}
		fmt.Fprintf(stderr, "wmss eval: job %s on %s (%s; %s)\n", id, f.server, how, string(val(job.State)))
	}

	prog := newProgress(f.progress, stderr)
	defer prog.Close()
	tracker := newJobTracker(prog, f.cfg.Benchmarks, f.cfg.Samples)
	job, err = followServerJob(ctx, c, f.server, id, tracker)
	if err != nil {
		if ctx.Err() != nil {
			return exitInternal, cancelServerJob(c, id, ctx.Err())
		}
		return serverExit(err), err
	}
	switch wmss.JobState(val(job.State)) {
	case wmss.StateSucceeded:
	case wmss.StateFailed:
		return exitInternal, fmt.Errorf("job %s failed on the server: %s", id, val(job.Error))
	default:
		return exitInternal, fmt.Errorf("job %s was %s on the server", id, string(val(job.State)))
	}

	res, items, err := fetchServerResults(ctx, c, f.server, id, stderr)
	if err != nil {
		if ctx.Err() != nil {
			return exitInternal, fmt.Errorf("interrupted while reading the results of job %s: %w", id, ctx.Err())
		}
		return exitInternal, err
	}
	tracker.finish(res)
	prog.Close()
	res.Config.ModelDir = f.cfg.ModelDir // as given: the id or the directory under the server's root
	res.Config.K = f.cfg.K
	if err := fillPassAtK(res, items, f.cfg.K); err != nil {
		return exitInternal, err
	}
	return writeReports(f, res, items, base, baseItems, stdout)
}

// createServerJob creates the evaluation job of spec with Idempotency-Key
// prefix-1. The server answers a key it has seen with the job that key
// created; a job that failed or was cancelled (say by Ctrl-C) is not
// reused: the next key, prefix-2, is tried, and so on, so that a retried
// command joins a job still running or reads one that succeeded, and
// otherwise starts anew. It reports whether the job is a new one.
func createServerJob(ctx context.Context, c *apiclient.ClientWithResponses, base string, spec apiclient.ApiEvalSpec, prefix string, stderr io.Writer) (*apiclient.WmssJob, bool, error) {
	for attempt := 1; attempt <= maxKeyAttempts; attempt++ {
		key := prefix + "-" + strconv.Itoa(attempt)
		r, err := c.CreateEvalWithResponse(ctx, &apiclient.CreateEvalParams{IdempotencyKey: &key}, spec)
		switch {
		case err != nil:
			return nil, false, &unreachableError{base, err}
		case r.JSON201 != nil:
			return r.JSON201, true, nil
		case r.JSON200 != nil:
			j := r.JSON200
			st := wmss.JobState(val(j.State))
			if st == wmss.StateFailed || st == wmss.StateCancelled {
				fmt.Fprintf(stderr, "wmss eval: job %s of an identical earlier request (Idempotency-Key %s) was %s; starting another\n", val(j.Id), key, st)
				continue
			}
			return j, false, nil
		default:
			return nil, false, problemError("POST /v1/evals", r.StatusCode(), r.Body)
		}
	}
	return nil, false, fmt.Errorf("the jobs of Idempotency-Keys %s-1 to %s-%d all failed or were cancelled; pass another --idempotency-key", prefix, prefix, maxKeyAttempts)
}

// followServerJob reads job id every serverPollInterval, feeding t, until
// it ends or ctx is done. Up to maxPollFailures failed reads in a row are
// tolerated (a restarting server puts a running job back in the queue and
// resumes it); a 4xx answer ends at once.
func followServerJob(ctx context.Context, c *apiclient.ClientWithResponses, base, id string, t *jobTracker) (*apiclient.WmssJob, error) {
	failures := 0
	var last error
	for {
		r, err := c.GetEvalWithResponse(ctx, id)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		switch {
		case err != nil:
			failures++
			last = &unreachableError{base, err}
		case r.JSON200 == nil:
			last = problemError("GET /v1/evals/"+id, r.StatusCode(), r.Body)
			if serverExit(last) == exitUsage {
				return nil, last
			}
			failures++
		default:
			failures = 0
			j := r.JSON200
			t.update(j)
			if wmss.JobState(val(j.State)).Terminal() {
				return j, nil
			}
		}
		if failures >= maxPollFailures {
			return nil, fmt.Errorf("following job %s: %d reads in a row failed, the last: %w", id, failures, last)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(serverPollInterval):
		}
	}
}

// cancelServerJob asks the server to cancel job id after the run was
// interrupted (cause), with a context of its own since ctx is done.
func cancelServerJob(c *apiclient.ClientWithResponses, id string, cause error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := c.CancelJobWithResponse(ctx, id)
	switch {
	case err != nil:
		return fmt.Errorf("interrupted (%v); cancelling job %s on the server failed: %w", cause, id, err)
	case r.JSON200 == nil && r.StatusCode() != http.StatusConflict: // 409: it had ended
		return fmt.Errorf("interrupted (%v); cancelling job %s on the server failed: %w", cause, id, problemError("POST /v1/jobs/"+id+"/cancel", r.StatusCode(), r.Body))
	}
	return fmt.Errorf("interrupted (%v); cancelled job %s on the server", cause, id)
}

// jobTracker turns the progress of an evaluation job, as GET /v1/evals/{id}
// shows it ({"phase": "eval", "benchmark": B, "step": scored, "total":
// samples}, written after each benchmark's generation and then as samples
// are scored), into the calls of the local progress display. Benchmarks
// run in the order of the request; a benchmark's generation is taken to
// start when the previous one's scoring is complete.
type jobTracker struct {
	p       progress
	names   []string
	samples int
	gen     map[string]bool // Generating called
	scoring map[string]bool // Scored(…, 0, total) called
	done    map[string]bool // Scored(…, total, total) called, or skipped
	running bool            // the job was seen running
}

func newJobTracker(p progress, names []string, samples int) *jobTracker {
	return &jobTracker{p: p, names: names, samples: samples, gen: map[string]bool{}, scoring: map[string]bool{}, done: map[string]bool{}}
}

func (t *jobTracker) generating(name string) {
	if !t.gen[name] {
		t.gen[name] = true
		t.p.Generating(name, 0, t.samples)
	}
}

// update shows job j's state and progress.
func (t *jobTracker) update(j *apiclient.WmssJob) {
	if wmss.JobState(val(j.State)) != wmss.StateRunning || len(t.names) == 0 {
		return
	}
	t.running = true
	var p struct {
		Phase     string `json:"phase"`
		Benchmark string `json:"benchmark"`
		Step      int    `json:"step"`
		Total     int    `json:"total"`
	}
	if b, err := json.Marshal(j.Progress); err == nil {
		_ = json.Unmarshal(b, &p)
	}
	i := slices.Index(t.names, p.Benchmark)
	if p.Phase != "eval" || i < 0 || p.Total <= 0 {
		t.generating(t.names[0])
		return
	}
	for _, done := range t.names[:i] { // finished between two reads
		t.gen[done], t.scoring[done], t.done[done] = true, true, true
	}
	t.generating(p.Benchmark)
	if !t.scoring[p.Benchmark] {
		t.scoring[p.Benchmark] = true
		t.p.Scored(p.Benchmark, 0, p.Total)
	}
	if p.Step > 0 && !t.done[p.Benchmark] {
		t.p.Scored(p.Benchmark, p.Step, p.Total)
		t.done[p.Benchmark] = p.Step >= p.Total
	}
	if p.Step >= p.Total && i+1 < len(t.names) {
		t.generating(t.names[i+1])
	}
}

// finish completes the display of a succeeded job from its summary res:
// the benchmarks whose end the polls did not see are shown scored. A job
// never seen running (it had ended: a reused job) shows nothing.
func (t *jobTracker) finish(res *evalrun.Results) {
	if !t.running {
		return
	}
	for _, b := range res.Benchmarks {
		if t.done[b.Name] {
			continue
		}
		total := b.Problems * b.Samples
		t.generating(b.Name)
		if !t.scoring[b.Name] {
			t.scoring[b.Name] = true
			t.p.Scored(b.Name, 0, total)
		}
		t.p.Scored(b.Name, total, total)
		t.done[b.Name] = true
	}
}

// fetchServerResults reads the summary of succeeded job id (the
// evalrun.Results evaljob wrote) and every per-item record, page by page.
// The records of GET /v1/evals/{id}/results lack the prompt, strict and
// flexible, error, finish_reason and time_ms of evalrun.Item; they are
// filled from the job's items.jsonl artifact when the server serves it and
// it agrees with the pages, and left empty (with a warning) otherwise.
func fetchServerResults(ctx context.Context, c *apiclient.ClientWithResponses, base, id string, stderr io.Writer) (*evalrun.Results, []evalrun.Item, error) {
	sr, err := c.GetEvalSummaryWithResponse(ctx, id)
	if err != nil {
		return nil, nil, &unreachableError{base, err}
	}
	if sr.StatusCode() != http.StatusOK {
		return nil, nil, problemError("GET /v1/evals/"+id+"/summary", sr.StatusCode(), sr.Body)
	}
	var res evalrun.Results
	if err := json.Unmarshal(sr.Body, &res); err != nil || len(res.Benchmarks) == 0 {
		return nil, nil, fmt.Errorf("job %s: the summary is not an evaluation's results (%v): %.200s", id, err, sr.Body)
	}

	var items []evalrun.Item
	after, limit := -1, resultsPageSize
	for {
		r, err := c.ListEvalResultsWithResponse(ctx, id, &apiclient.ListEvalResultsParams{After: &after, Limit: &limit})
		if err != nil {
			return nil, nil, &unreachableError{base, err}
		}
		if r.JSON200 == nil {
			return nil, nil, problemError("GET /v1/evals/"+id+"/results", r.StatusCode(), r.Body)
		}
		page := r.JSON200
		if page.Items != nil {
			for _, e := range *page.Items {
				if got := val(e.Index); got != len(items) {
					return nil, nil, fmt.Errorf("job %s: result index %d where %d was due", id, got, len(items))
				}
				items = append(items, evalrun.Item{
					Benchmark: val(e.Benchmark), ID: val(e.ItemId), Sample: val(e.Sample), Output: val(e.Output),
					Gold: val(e.Gold), Extracted: val(e.Extracted), Verdict: val(e.Verdict), Correct: val(e.Correct),
					CompletionTokens: val(e.CompletionTokens),
				})
			}
		}
		if page.NextAfter == nil {
			break
		}
		after = *page.NextAfter
	}
	want := 0
	for _, b := range res.Benchmarks {
		want += b.Problems * b.Samples
	}
	if len(items) != want {
		return nil, nil, fmt.Errorf("job %s: the server listed %d item results; its summary counts %d", id, len(items), want)
	}
	if full, why := itemsArtifact(ctx, c, id, items); full != nil {
		items = full
	} else {
		fmt.Fprintf(stderr, "wmss eval: warning: %s: prompt, strict, flexible, error, finish_reason and time_ms are left empty: %s\n", ciout.ItemsFile, why)
	}
	return &res, items, nil
}

// itemsArtifact reads the items.jsonl artifact of job id (the full
// evalrun.Item records evaljob writes) and returns it when each record
// agrees with the paged one at its index; else nil and why.
func itemsArtifact(ctx context.Context, c *apiclient.ClientWithResponses, id string, paged []evalrun.Item) ([]evalrun.Item, string) {
	r, err := c.GetJobArtifactWithResponse(ctx, id, evaljob.ItemsFile)
	if err != nil {
		return nil, fmt.Sprintf("the job's %s artifact could not be read: %v", evaljob.ItemsFile, err)
	}
	if r.StatusCode() != http.StatusOK {
		return nil, fmt.Sprintf("the server does not serve the job's %s artifact (%v)", evaljob.ItemsFile, problemError("GET artifact", r.StatusCode(), r.Body))
	}
	sc := bufio.NewScanner(bytes.NewReader(r.Body))
	sc.Buffer(make([]byte, 0, 1<<20), 256<<20)
	var full []evalrun.Item
	for sc.Scan() {
		var it evalrun.Item
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			return nil, fmt.Sprintf("the job's %s artifact, line %d: %v", evaljob.ItemsFile, len(full)+1, err)
		}
		full = append(full, it)
	}
	if len(full) != len(paged) {
		return nil, fmt.Sprintf("the job's %s artifact has %d records, the results %d", evaljob.ItemsFile, len(full), len(paged))
	}
	for i, p := range paged {
		a := full[i]
		if a.Benchmark != p.Benchmark || a.ID != p.ID || a.Sample != p.Sample || a.Output != p.Output || a.Gold != p.Gold ||
			a.Extracted != p.Extracted || a.Verdict != p.Verdict || a.Correct != p.Correct || a.CompletionTokens != p.CompletionTokens {
			return nil, fmt.Sprintf("the job's %s artifact differs from the results at index %d", evaljob.ItemsFile, i)
		}
	}
	return full, ""
}

// fillPassAtK sets each benchmark's pass@k to exactly the k of ks: a value
// the server computed (it computes pass@1 and pass@n) is kept, the others
// are computed from the items as evalrun does — per problem, n scored
// samples and c correct ones, problems with fewer than k scored samples
// left out, the unbiased estimator of passk.PassAtK (Chen et al. 2021,
// arXiv 2107.03374, eq. 1).
func fillPassAtK(res *evalrun.Results, items []evalrun.Item, ks []int) error {
	for i := range res.Benchmarks {
		b := &res.Benchmarks[i]
		var probs []passk.Problem
		at := map[string]int{}
		for _, it := range items {
			if it.Benchmark != b.Name || !ciout.Scored(it) {
				continue
			}
			j, ok := at[it.ID]
			if !ok {
				j = len(probs)
				at[it.ID] = j
				probs = append(probs, passk.Problem{})
			}
			probs[j].N++
			if it.Correct {
				probs[j].C++
			}
		}
		out := map[string]float64{}
		for _, k := range ks {
			key := "pass@" + strconv.Itoa(k)
			if v, ok := b.PassAtK[key]; ok {
				out[key] = v
				continue
			}
			v, ok, err := passk.PassAtKScored(probs, k)
			if err != nil {
				return fmt.Errorf("%s: %w", b.Name, err)
			}
			if ok {
				out[key] = v
			}
		}
		b.PassAtK = out
	}
	return nil
}

// val returns *p, or T's zero value when p is nil (the generated client's
// optional fields).
func val[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
