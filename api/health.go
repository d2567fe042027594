package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wmss/wmss"
)

// HealthResponse is the body of GET /healthz.
type HealthResponse struct {
	Status string `json:"status"` // "ok" or "unavailable"
	Error  string `json:"error,omitempty"`
	wmss.RuntimeInfo
}

// getHealth reports the Go, Python and torch versions, the torch device and
// the active BLAS. It answers 503 when the engine could not start.
//
//	GET /healthz
//
//	@Summary	Liveness and runtime versions
//	@ID			getHealth
//	@Tags		health
//	@Produce	json
//	@Success	200	{object}	HealthResponse
//	@Failure	503	{object}	HealthResponse
//	@Router		/healthz [get]
func (s *Server) getHealth(c *gin.Context) {
	if s.RuntimeErr != nil {
		c.JSON(http.StatusServiceUnavailable, HealthResponse{Status: "unavailable", Error: s.RuntimeErr.Error(), RuntimeInfo: s.Runtime})
		return
	}
	c.JSON(http.StatusOK, HealthResponse{Status: "ok", RuntimeInfo: s.Runtime})
}

// ReadyResponse is the body of GET /readyz.
type ReadyResponse struct {
	Status string `json:"status"` // "ready" or "unavailable"
	// Checks maps each dependency (store, engine, runner) to "ok" or why not.
	Checks map[string]string `json:"checks"`
}

// getReady reports whether the server can take work: the job store answers
// and the engine started (plus Server.Ready, when set). 503 otherwise.
//
//	GET /readyz
//
//	@Summary	Readiness
//	@ID			getReady
//	@Tags		health
//	@Produce	json
//	@Success	200	{object}	ReadyResponse
//	@Failure	503	{object}	ReadyResponse
//	@Router		/readyz [get]
func (s *Server) getReady(c *gin.Context) {
	checks := map[string]string{"store": "ok", "engine": "ok"}
	if s.Store == nil {
		checks["store"] = "not configured"
	} else {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		_, _, err := s.Store.ListJobs(ctx, wmss.JobFilter{Limit: 1})
		cancel()
		if err != nil {
			s.Logger.Error("readyz: store", "err", err)
			checks["store"] = "unreachable"
		}
	}
	if s.RuntimeErr != nil {
		checks["engine"] = s.RuntimeErr.Error()
	}
	if s.Ready != nil {
		checks["runner"] = "ok"
		if err := s.Ready(); err != nil {
			checks["runner"] = err.Error()
		}
	}
	for _, v := range checks {
		if v != "ok" {
			c.JSON(http.StatusServiceUnavailable, ReadyResponse{Status: "unavailable", Checks: checks})
			return
		}
	}
	c.JSON(http.StatusOK, ReadyResponse{Status: "ready", Checks: checks})
}
