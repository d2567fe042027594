// Package api serves the wmss REST API with gin.
//
// Handlers are thin: they parse and validate the request, call the domain
// (training, evaluators, the engine through root-package interfaces), and
// answer through one helper. Routes are registered in router.go only.
package api

import (
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/wmss/wmss"
)

// Server holds the dependencies of the HTTP handlers.
type Server struct {
	// Runtime is what /healthz reports; it is read once at start-up, so the
	// health check never waits behind a running engine call.
	Runtime wmss.RuntimeInfo
	// RuntimeErr, when set, is why the engine could not start; /healthz then
	// answers 503 with it.
	RuntimeErr error
	// Logger receives one line per request; default slog.Default().
	Logger *slog.Logger
	// Token is the bearer token every /v1 route requires; "" disables auth.
	Token string

	router *gin.Engine
	v1     *gin.RouterGroup
}

// NewServer returns s with its routes registered. Set the exported fields
// first; a nil Logger becomes slog.Default().
func NewServer(s *Server) *Server {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	s.router = s.routes()
	return s
}

// Handler returns the http.Handler serving every route.
func (s *Server) Handler() *gin.Engine { return s.router }
