package api

import (
	"net/http"

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
func (s *Server) getHealth(c *gin.Context) {
	if s.RuntimeErr != nil {
		c.JSON(http.StatusServiceUnavailable, HealthResponse{Status: "unavailable", Error: s.RuntimeErr.Error(), RuntimeInfo: s.Runtime})
		return
	}
	c.JSON(http.StatusOK, HealthResponse{Status: "ok", RuntimeInfo: s.Runtime})
}
