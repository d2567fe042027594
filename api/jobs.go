package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/training"
)

// JobList is one page of GET /v1/jobs.
type JobList struct {
	Jobs []*wmss.Job `json:"jobs"`
	// NextCursor, when set, is the cursor query value of the next page.
	NextCursor string `json:"next_cursor,omitempty"`
}

// maxIdempotencyKey bounds the Idempotency-Key header (bytes).
const maxIdempotencyKey = 255

// createJob queues a training job from a pipeline spec (training.Spec, the
// same JSON document as a spec file). Paths in the spec (base_model.path,
// base_model.init.tokenizer, base_model.pretrain.corpus, data.path) are
// relative to the data root or absolute inside it; the stored spec holds
// them resolved, with every default filled in. With an Idempotency-Key
// header, a repeat of the same request returns the job it created (200);
// the same key with a different spec is 422.
//
//	POST /v1/jobs
//
//	@Summary		Create a training job
//	@Description	Decodes the pipeline spec strictly (unknown fields and wrong types are 422 naming the JSON path), confines its paths to the data root, and queues the job.
//	@ID				createJob
//	@Tags			jobs
//	@Accept			json
//	@Produce		json
//	@Param			Idempotency-Key	header		string			false	"makes retries safe: the same key returns the same job"
//	@Param			body			body		training.Spec	true	"pipeline spec"
//	@Success		201				{object}	wmss.Job		"created"
//	@Success		200				{object}	wmss.Job		"the job an earlier request with this Idempotency-Key created"
//	@Header			201				{string}	Location		"/v1/jobs/{id}"
//	@Failure		400,401,404,413,422,503	{object}	Problem
//	@Router			/v1/jobs [post]
//	@Security		BearerAuth
func (s *Server) createJob(c *gin.Context) {
	if s.Store == nil || s.Runner == nil || s.Root == nil {
		s.unavailable(c, "the training runner")
		return
	}
	key, ok := s.idempotencyKey(c)
	if !ok {
		return
	}
	body, ok := readBody(c, DefaultMaxBody)
	if !ok {
		return
	}
	if !json.Valid(body) {
		err := json.Unmarshal(body, new(any))
		problem(c, http.StatusBadRequest, typeMalformed, "Malformed JSON", err.Error(), "")
		return
	}
	spec, err := training.DecodeSpec(body)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.confineSpec(spec); err != nil {
		s.fail(c, err)
		return
	}
	stored, err := json.Marshal(spec)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.queueJob(c, &wmss.Job{Kind: wmss.JobKind(spec.Kind), Spec: stored, IdempotencyKey: key}, s.Runner)
}

// idempotencyKey reads the Idempotency-Key header ("" when absent).
func (s *Server) idempotencyKey(c *gin.Context) (string, bool) {
	key := c.GetHeader("Idempotency-Key")
	if len(key) > maxIdempotencyKey {
		s.fail(c, wmss.FieldErrorf("Idempotency-Key", "at most %d bytes", maxIdempotencyKey))
		return "", false
	}
	for _, r := range key {
		if r < 0x21 || r > 0x7e {
			s.fail(c, wmss.FieldErrorf("Idempotency-Key", "want printable ASCII without spaces"))
			return "", false
		}
	}
	return key, true
}

// queueJob stores j, wakes r and answers 201 with Location; for a repeated
// Idempotency-Key it answers 200 with the earlier job, or 422 when the
// earlier request differed.
func (s *Server) queueJob(c *gin.Context, j *wmss.Job, r wmss.Runner) {
	got, created, err := s.Store.CreateJob(c.Request.Context(), j)
	if err != nil {
		s.fail(c, err)
		return
	}
	if !created {
		if got.Kind != j.Kind || !bytes.Equal(got.Spec, j.Spec) {
			s.fail(c, wmss.FieldErrorf("Idempotency-Key", "key already used for job %s with a different request", got.ID))
			return
		}
		c.JSON(http.StatusOK, got)
		return
	}
	r.Wake()
	c.Header("Location", jobLocation(got))
	c.JSON(http.StatusCreated, got)
}

func jobLocation(j *wmss.Job) string {
	if j.Kind == wmss.KindEval {
		return "/v1/evals/" + string(j.ID)
	}
	return "/v1/jobs/" + string(j.ID)
}

// confineSpec resolves every path of spec inside the data root, in place.
func (s *Server) confineSpec(spec *training.Spec) error {
	resolve := func(field string, p *string) error {
		if *p == "" {
			return nil
		}
		abs, err := s.Root.Resolve(field, *p)
		if err != nil {
			return err
		}
		*p = abs
		return nil
	}
	b := &spec.BaseModel
	if err := resolve("base_model.path", &b.Path); err != nil {
		return err
	}
	// Catch a wrong model path now (422) rather than as a failed job later.
	if b.Path != "" {
		if _, err := os.Stat(filepath.Join(b.Path, "config.json")); err != nil {
			return wmss.FieldErrorf("base_model.path", "%s is not a model directory (no config.json); a model created with POST /v1/models/init lives in its path, e.g. models/mdl_…/model", s.Root.Rel(b.Path))
		}
	}
	if b.Init != nil {
		if err := resolve("base_model.init.tokenizer", &b.Init.Tokenizer); err != nil {
			return err
		}
	}
	if b.Pretrain != nil {
		if err := resolve("base_model.pretrain.corpus", &b.Pretrain.Corpus); err != nil {
			return err
		}
	}
	if spec.Heldout != nil {
		if err := resolve("heldout.path", &spec.Heldout.Path); err != nil {
			return err
		}
	}
	return resolve("data.path", &spec.Data.Path)
}

// listJobs lists jobs newest first, one page at a time.
//
//	GET /v1/jobs
//
//	@Summary	List jobs
//	@ID			listJobs
//	@Tags		jobs
//	@Produce	json
//	@Param		state	query		string	false	"only jobs in this state"	Enums(queued, running, succeeded, failed, cancelled)
//	@Param		kind	query		string	false	"only jobs of this kind"	Enums(wmss, sft_baseline, eval)
//	@Param		limit	query		int		false	"page size, 1 to 500"		default(50)	minimum(1)	maximum(500)
//	@Param		cursor	query		string	false	"next_cursor of the previous page"
//	@Success	200		{object}	JobList
//	@Failure	401,422,503	{object}	Problem
//	@Router		/v1/jobs [get]
//	@Security	BearerAuth
func (s *Server) listJobs(c *gin.Context) {
	s.listJobsOf(c, wmss.JobKind(c.Query("kind")))
}

func (s *Server) listJobsOf(c *gin.Context, kind wmss.JobKind) {
	if s.Store == nil {
		s.unavailable(c, "the job store")
		return
	}
	f := wmss.JobFilter{State: wmss.JobState(c.Query("state")), Kind: kind, After: wmss.JobID(c.Query("cursor"))}
	switch f.State {
	case "", wmss.StateQueued, wmss.StateRunning, wmss.StateSucceeded, wmss.StateFailed, wmss.StateCancelled:
	default:
		s.fail(c, wmss.FieldErrorf("state", "unknown state %q (want queued, running, succeeded, failed or cancelled)", f.State))
		return
	}
	switch f.Kind {
	case "", wmss.KindWMSS, wmss.KindSFTBaseline, wmss.KindEval:
	default:
		s.fail(c, wmss.FieldErrorf("kind", "unknown kind %q (want wmss, sft_baseline or eval)", f.Kind))
		return
	}
	limit, ok := s.intQuery(c, "limit", 50, 1, 500)
	if !ok {
		return
	}
	f.Limit = limit
	jobs, next, err := s.Store.ListJobs(c.Request.Context(), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	if jobs == nil {
		jobs = []*wmss.Job{}
	}
	c.JSON(http.StatusOK, JobList{Jobs: jobs, NextCursor: string(next)})
}

// intQuery reads query parameter name as an integer in [min, max], def when
// absent. On a bad value it answers 422 naming the parameter.
func (s *Server) intQuery(c *gin.Context, name string, def, min, max int) (int, bool) {
	v, ok := c.GetQuery(name)
	if !ok || v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		s.fail(c, wmss.FieldErrorf(name, "want an integer from %d to %d, got %q", min, max, v))
		return 0, false
	}
	return n, true
}

// getJob returns one job with its state, progress and summary.
//
//	GET /v1/jobs/:id
//
//	@Summary	Get a job
//	@ID			getJob
//	@Tags		jobs
//	@Produce	json
//	@Param		id	path		string	true	"job id, e.g. job_0190a3b4c5d6e1f2a3b4"
//	@Success	200	{object}	wmss.Job
//	@Failure	401,404,503	{object}	Problem
//	@Router		/v1/jobs/{id} [get]
//	@Security	BearerAuth
func (s *Server) getJob(c *gin.Context) {
	j, ok := s.job(c, "")
	if !ok {
		return
	}
	c.JSON(http.StatusOK, j)
}

// job loads the job named by the :id parameter. With kind KindEval a job
// of another kind is not found; kind "" accepts any. On failure it has
// answered.
func (s *Server) job(c *gin.Context, kind wmss.JobKind) (*wmss.Job, bool) {
	if s.Store == nil {
		s.unavailable(c, "the job store")
		return nil, false
	}
	j, err := s.Store.GetJob(c.Request.Context(), wmss.JobID(c.Param("id")))
	if err == nil && kind == wmss.KindEval && j.Kind != wmss.KindEval {
		err = &wmss.Error{Code: wmss.ENOTFOUND, Field: "id", Message: "no evaluation job " + c.Param("id")}
	}
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	return j, true
}

// cancelJob asks a job to stop. A queued job is cancelled at once; a
// running one stops within one optimizer step (or one evaluation item),
// keeping its last checkpoint. A job that already ended is 409.
//
//	POST /v1/jobs/:id/cancel
//
//	@Summary	Cancel a job
//	@ID			cancelJob
//	@Tags		jobs
//	@Produce	json
//	@Param		id	path		string	true	"job id"
//	@Success	200	{object}	wmss.Job
//	@Failure	401,404,409,503	{object}	Problem
//	@Router		/v1/jobs/{id}/cancel [post]
//	@Security	BearerAuth
func (s *Server) cancelJob(c *gin.Context) {
	if s.Store == nil {
		s.unavailable(c, "the job store")
		return
	}
	j, err := s.Store.RequestCancel(c.Request.Context(), wmss.JobID(c.Param("id")))
	if err != nil {
		s.fail(c, err)
		return
	}
	if j.State == wmss.StateRunning {
		if j.Kind == wmss.KindEval && s.Evaluator != nil {
			s.Evaluator.Cancel(j.ID)
		} else if j.Kind != wmss.KindEval && s.Runner != nil {
			s.Runner.Cancel(j.ID)
		}
	}
	c.JSON(http.StatusOK, j)
}
