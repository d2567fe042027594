package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wmss/wmss"
)

// ReportBuilder renders the HTML report of a WMSS job (internal/report):
// loss curves, the logit gap, the λ and learning-rate schedules, the
// curriculum and the evaluation table, compared with baseline when it is
// not "". Errors are ENOTFOUND for an unknown job and EINVALID for jobs of
// the wrong kinds.
type ReportBuilder interface {
	Report(ctx context.Context, id, baseline wmss.JobID) ([]byte, error)
}

// getJobReport renders a WMSS job's report as a self-contained HTML page.
//
//	GET /v1/jobs/:id/report?baseline=job_…
//
//	@Summary	Get a WMSS job's report
//	@Description	A self-contained HTML page (no scripts, no external resources): loss curves of the job and of an optional SFT baseline job, the logit gap over steps, the λ and learning-rate schedules, weak vs strong entropy per sample coloured by sampling weight, the weight histogram, and the evaluation table of M0, M1, the baseline and the WMSS model (from their newest succeeded evaluation jobs).
//	@ID			getJobReport
//	@Tags		jobs
//	@Produce	html
//	@Param		id			path		string	true	"id of a wmss job"
//	@Param		baseline	query		string	false	"id of an sft_baseline job to compare with"
//	@Success	200			{string}	string	"the report"
//	@Failure	401			{object}	Problem	"missing or wrong bearer token"
//	@Failure	404			{object}	Problem	"no such job"
//	@Failure	422			{object}	Problem	"not a wmss job, or the baseline is not an sft_baseline job"
//	@Failure	503			{object}	Problem	"reports are not available on this server"
//	@Security	BearerAuth
//	@Router		/v1/jobs/{id}/report [get]
func (s *Server) getJobReport(c *gin.Context) {
	if s.Reports == nil {
		s.unavailable(c, "reports")
		return
	}
	page, err := s.Reports.Report(c.Request.Context(), wmss.JobID(c.Param("id")), wmss.JobID(c.Query("baseline")))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Data(http.StatusOK, "text/html; charset=utf-8", page)
}
