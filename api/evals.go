package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/evaluators/benchmarks"
)

// EvalSpec is an evaluation job: a model, the benchmarks to run and how to
// generate. It is the body of POST /v1/evals and, with Model resolved to an
// absolute directory, the stored spec of the job the Evaluator reads.
type EvalSpec struct {
	// Model is a registered model id ("mdl_…") or an HF-layout directory
	// relative to the data root (e.g. a job's final model). Required.
	Model string `json:"model" example:"mdl_0190a3b4c5d6e1f2a3b4"`
	// ModelID is set in the stored spec when Model named a registered model.
	ModelID string `json:"model_id,omitempty"`
	// Benchmarks to run, each once, from evaluators/benchmarks.Names()
	// (gsm8k, math500, aime25, amc23, aqua, mawps, svamp, humaneval, mbpp).
	Benchmarks []string `json:"benchmarks" example:"gsm8k,humaneval"`
	// Limit keeps the first Limit items of each benchmark; 0 = all.
	Limit      int            `json:"limit" example:"20"`
	Generation GenerationSpec `json:"generation"`
}

// GenerationSpec sets how completions are sampled.
type GenerationSpec struct {
	// MaxNewTokens per completion; 0 = the benchmark's budget (4096, or
	// 8192 for aime25 and amc23: docs/wmss-method.md). At most 32768.
	MaxNewTokens int `json:"max_new_tokens" example:"512"`
	// Temperature 0 is greedy decoding (the paper's math setting); at most 2.
	Temperature float64 `json:"temperature" example:"0"`
	// TopP is nucleus sampling's mass, in (0, 1]; 0 means 1.
	TopP float64 `json:"top_p" example:"1"`
	// TopK keeps the k most likely tokens; 0 = all.
	TopK int `json:"top_k" example:"0"`
	// Samples is n, the completions per item for pass@k (k ≤ n); default 1, at most 200.
	Samples int `json:"samples" example:"1"`
	// Seed seeds sampling.
	Seed uint64 `json:"seed" example:"0"`
}

// EvalItem is the result of one completion of one benchmark item.
type EvalItem struct {
	Index     int    `json:"index"`     // position in the job's results, from 0
	Benchmark string `json:"benchmark"` // e.g. "gsm8k"
	ItemID    string `json:"item_id"`   // the benchmark's id, e.g. "gsm8k/test/12"
	Sample    int    `json:"sample"`    // which of the item's completions, from 0
	Output    string `json:"output"`    // the model's completion
	// Extracted is the final answer found in Output (math, choice).
	Extracted string `json:"extracted,omitempty"`
	Gold      string `json:"gold"` // the gold answer (math, choice) or "" for code
	// Verdict: mathgrade's (equal, not_equal, no_answer, error) or the
	// sandbox's (passed, failed, timeout, memory_limit, runtime_error, sandbox_error).
	Verdict          string `json:"verdict"`
	Correct          bool   `json:"correct"`
	CompletionTokens int    `json:"completion_tokens"`
	// Prompt is the user turn the model answered.
	Prompt string `json:"prompt,omitempty"`
	// Strict and Flexible are GSM8K's two gradings of this output.
	Strict   *bool `json:"strict,omitempty"`
	Flexible *bool `json:"flexible,omitempty"`
	// Error says why the grader or sandbox could not score it (verdict error or sandbox_error).
	Error string `json:"error,omitempty"`
	// FinishReason is "stop", "eos" or "length".
	FinishReason string `json:"finish_reason,omitempty"`
	// TimeMS is the item's share of generation time plus its scoring time, in ms.
	TimeMS float64 `json:"time_ms"`
}

// EvalItemList is one page of GET /v1/evals/{id}/results.
type EvalItemList struct {
	Items []EvalItem `json:"items"`
	// NextAfter, when set, is the after query value of the next page.
	NextAfter *int `json:"next_after,omitempty"`
}

// validate checks the fields of a request, naming the first bad one.
func (e *EvalSpec) validate() error {
	if e.Model == "" {
		return wmss.FieldErrorf("model", "model is required (a model id or a directory under the data root)")
	}
	if len(e.Benchmarks) == 0 {
		return wmss.FieldErrorf("benchmarks", "at least one benchmark is required (known: %s)", strings.Join(benchmarks.Names(), ", "))
	}
	known := benchmarks.Names()
	for i, b := range e.Benchmarks {
		if !slices.Contains(known, b) {
			return wmss.FieldErrorf("benchmarks["+itoa(i)+"]", "unknown benchmark %q (known: %s)", b, strings.Join(known, ", "))
		}
		if slices.Contains(e.Benchmarks[:i], b) {
			return wmss.FieldErrorf("benchmarks["+itoa(i)+"]", "benchmark %q named twice", b)
		}
	}
	g := &e.Generation
	switch {
	case e.Limit < 0:
		return wmss.FieldErrorf("limit", "must be ≥ 0, got %d", e.Limit)
	case g.MaxNewTokens < 0 || g.MaxNewTokens > 32768:
		return wmss.FieldErrorf("generation.max_new_tokens", "want 0 to 32768, got %d", g.MaxNewTokens)
	case g.Temperature < 0 || g.Temperature > 2:
		return wmss.FieldErrorf("generation.temperature", "want 0 to 2, got %g", g.Temperature)
	case g.TopP < 0 || g.TopP > 1:
		return wmss.FieldErrorf("generation.top_p", "want (0, 1], got %g", g.TopP)
	case g.TopK < 0:
		return wmss.FieldErrorf("generation.top_k", "must be ≥ 0, got %d", g.TopK)
	case g.Samples < 0 || g.Samples > 200:
		return wmss.FieldErrorf("generation.samples", "want 1 to 200, got %d", g.Samples)
	}
	if g.TopP == 0 {
		g.TopP = 1
	}
	if g.Samples == 0 {
		g.Samples = 1
	}
	return nil
}

// createEval queues an evaluation job. Honours Idempotency-Key like createJob.
//
//	POST /v1/evals
//
//	@Summary		Create an evaluation job
//	@Description	Evaluates a model on benchmarks with the given generation settings. 503 when this server has no evaluator.
//	@ID				createEval
//	@Tags			evals
//	@Accept			json
//	@Produce		json
//	@Param			Idempotency-Key	header		string		false	"makes retries safe: the same key returns the same job"
//	@Param			body			body		EvalSpec	true	"model, benchmarks, generation settings"
//	@Success		201				{object}	wmss.Job	"created"
//	@Success		200				{object}	wmss.Job	"the job an earlier request with this Idempotency-Key created"
//	@Header			201				{string}	Location	"/v1/evals/{id}"
//	@Failure		400,401,404,413,422,503	{object}	Problem
//	@Router			/v1/evals [post]
//	@Security		BearerAuth
func (s *Server) createEval(c *gin.Context) {
	if s.Store == nil || s.Evaluator == nil || s.Root == nil {
		s.unavailable(c, "the evaluator")
		return
	}
	key, ok := s.idempotencyKey(c)
	if !ok {
		return
	}
	var spec EvalSpec
	if !bindJSON(c, &spec, DefaultMaxBody) {
		return
	}
	spec.ModelID = ""
	if err := spec.validate(); err != nil {
		s.fail(c, err)
		return
	}
	dir, err := s.modelDir(spec.Model)
	if err != nil {
		s.fail(c, err)
		return
	}
	if strings.HasPrefix(spec.Model, "mdl_") {
		spec.ModelID = spec.Model
	}
	spec.Model = dir
	stored, err := json.Marshal(spec)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.queueJob(c, &wmss.Job{Kind: wmss.KindEval, Spec: stored, IdempotencyKey: key}, s.Evaluator)
}

// modelDir resolves a model id or a directory under the data root.
func (s *Server) modelDir(model string) (string, error) {
	if strings.HasPrefix(model, "mdl_") && s.Models != nil {
		dir, err := s.Models.Dir(model)
		if err != nil {
			if e, ok := err.(*wmss.Error); ok {
				return "", &wmss.Error{Code: e.Code, Field: "model", Message: e.Message}
			}
		}
		return dir, err
	}
	return s.Root.Resolve("model", model)
}

// listEvals lists evaluation jobs newest first.
//
//	GET /v1/evals
//
//	@Summary	List evaluation jobs
//	@ID			listEvals
//	@Tags		evals
//	@Produce	json
//	@Param		state	query		string	false	"only jobs in this state"	Enums(queued, running, succeeded, failed, cancelled)
//	@Param		limit	query		int		false	"page size, 1 to 500"		default(50)	minimum(1)	maximum(500)
//	@Param		cursor	query		string	false	"next_cursor of the previous page"
//	@Success	200		{object}	JobList
//	@Failure	401,422,503	{object}	Problem
//	@Router		/v1/evals [get]
//	@Security	BearerAuth
func (s *Server) listEvals(c *gin.Context) {
	s.listJobsOf(c, wmss.KindEval)
}

// getEval returns an evaluation job.
//
//	GET /v1/evals/:id
//
//	@Summary	Get an evaluation job
//	@ID			getEval
//	@Tags		evals
//	@Produce	json
//	@Param		id	path		string	true	"job id"
//	@Success	200	{object}	wmss.Job
//	@Failure	401,404,503	{object}	Problem
//	@Router		/v1/evals/{id} [get]
//	@Security	BearerAuth
func (s *Server) getEval(c *gin.Context) {
	j, ok := s.job(c, wmss.KindEval)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, j)
}

// listEvalResults returns an evaluation job's per-item results in order,
// one page at a time.
//
//	GET /v1/evals/:id/results
//
//	@Summary	List per-item results of an evaluation job
//	@ID			listEvalResults
//	@Tags		evals
//	@Produce	json
//	@Param		id			path		string	true	"job id"
//	@Param		benchmark	query		string	false	"only this benchmark"
//	@Param		after		query		int		false	"only items with index > after"	default(-1)	minimum(-1)
//	@Param		limit		query		int		false	"page size, 1 to 1000"			default(100)	minimum(1)	maximum(1000)
//	@Success	200			{object}	EvalItemList
//	@Failure	401,404,422,503	{object}	Problem
//	@Router		/v1/evals/{id}/results [get]
//	@Security	BearerAuth
func (s *Server) listEvalResults(c *gin.Context) {
	if s.Evaluator == nil {
		s.unavailable(c, "the evaluator")
		return
	}
	j, ok := s.job(c, wmss.KindEval)
	if !ok {
		return
	}
	after, ok := s.intQuery(c, "after", -1, -1, 1<<31-1)
	if !ok {
		return
	}
	limit, ok := s.intQuery(c, "limit", 100, 1, 1000)
	if !ok {
		return
	}
	items, err := s.Evaluator.Results(c.Request.Context(), j.ID, c.Query("benchmark"), after, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := EvalItemList{Items: items}
	if out.Items == nil {
		out.Items = []EvalItem{}
	}
	if len(items) == limit {
		last := items[len(items)-1].Index
		out.NextAfter = &last
	}
	c.JSON(http.StatusOK, out)
}

// getEvalSummary returns an evaluation job's summary: per-benchmark scores
// (accuracy, pass@k) as the Evaluator wrote them. 409 while the job has
// not written one yet.
//
//	GET /v1/evals/:id/summary
//
//	@Summary	Get an evaluation job's summary
//	@ID			getEvalSummary
//	@Tags		evals
//	@Produce	json
//	@Param		id	path		string	true	"job id"
//	@Success	200	{object}	object
//	@Failure	401,404,409,503	{object}	Problem
//	@Router		/v1/evals/{id}/summary [get]
//	@Security	BearerAuth
func (s *Server) getEvalSummary(c *gin.Context) {
	j, ok := s.job(c, wmss.KindEval)
	if !ok {
		return
	}
	if len(j.Summary) == 0 {
		if j.State.Terminal() {
			s.fail(c, &wmss.Error{Code: wmss.ENOTFOUND, Field: "summary", Message: "job " + string(j.ID) + " " + string(j.State) + " without a summary"})
			return
		}
		s.fail(c, &wmss.Error{Code: wmss.ECONFLICT, Field: "state", Message: "job " + string(j.ID) + " is " + string(j.State) + "; no summary yet"})
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", j.Summary)
}

func itoa(i int) string { return strconv.Itoa(i) }
