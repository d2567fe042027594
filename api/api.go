// Package api serves the wmss REST API with gin.
//
// Handlers are thin: they parse and validate the request, call the domain
// (training, evaluators, the engine through root-package interfaces), and
// answer through one helper. Routes are registered in router.go only; each
// URL noun has its own file (datasets.go, models.go, jobs.go,
// jobs_events.go, evals.go, sandbox.go, health.go, metrics.go, docs.go).
// The swag annotations on the handlers are the source of openapi/; run
// scripts/openapi.sh after changing them and never edit openapi/ by hand.
//
//	@title						wmss API
//	@version					1
//	@description				Post-training of language models with weak-driven learning (WMSS, arXiv 2602.08222) and their evaluation on math and code benchmarks. Errors are RFC 9457 problem details (application/problem+json).
//	@license.name				Apache-2.0
//	@BasePath					/
//	@securityDefinitions.apikey	BearerAuth
//	@in							header
//	@name						Authorization
//	@description				"Bearer " followed by the server's token (WMSS_TOKEN or --token-file).
package api

//go:generate sh ../scripts/openapi.sh

import (
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wmss/wmss"
)

// Server holds the dependencies of the HTTP handlers. A nil dependency
// makes its routes answer 503 (problem type "unavailable"), never canned data.
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

	// Store keeps training and evaluation jobs.
	Store wmss.JobStore
	// Runner executes queued training jobs; Wake is called after a create.
	Runner wmss.Runner
	// Evaluator executes queued evaluation jobs and serves their results.
	Evaluator Evaluator
	// Root confines the paths clients send to the data directory.
	Root PathResolver
	// Datasets and Models are the registries under the data directory.
	Datasets DatasetStore
	Models   ModelRegistry
	// ModelCreator writes random-init models (the engine's init_model).
	ModelCreator ModelCreator
	// Reports renders WMSS job reports (GET /v1/jobs/{id}/report).
	Reports ReportBuilder
	// Sandbox runs single programs for POST /v1/sandbox/run.
	Sandbox SandboxRunner
	// Ready, when set, is one more /readyz check (e.g. the runner started);
	// a non-nil error makes /readyz answer 503 with it.
	Ready func() error

	// Registry collects the Prometheus metrics served at /metrics; nil
	// makes a fresh registry with the Go and process collectors.
	Registry *prometheus.Registry
	// MaxDatasetBytes bounds a dataset upload; default DefaultMaxDataset.
	MaxDatasetBytes int64
	// PollInterval is how often an event stream looks for new events;
	// default 500 ms. HeartbeatInterval is how often an idle stream sends
	// a comment line so proxies keep it open; default 15 s.
	PollInterval      time.Duration
	HeartbeatInterval time.Duration

	router  *gin.Engine
	v1      *gin.RouterGroup
	metrics *httpMetrics
}

// DefaultMaxDataset bounds a dataset upload when Server.MaxDatasetBytes is 0.
const DefaultMaxDataset = 256 << 20 // bytes

// NewServer returns s with its routes registered. Set the exported fields
// first; a nil Logger becomes slog.Default().
func NewServer(s *Server) *Server {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.MaxDatasetBytes <= 0 {
		s.MaxDatasetBytes = DefaultMaxDataset
	}
	if s.PollInterval <= 0 {
		s.PollInterval = 500 * time.Millisecond
	}
	if s.HeartbeatInterval <= 0 {
		s.HeartbeatInterval = 15 * time.Second
	}
	s.metrics = newHTTPMetrics(s)
	s.router = s.routes()
	return s
}

// Handler returns the http.Handler serving every route.
func (s *Server) Handler() *gin.Engine { return s.router }
