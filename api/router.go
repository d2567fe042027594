package api

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// routes registers every route of the API. It is the only place that does.
func (s *Server) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery(), s.requestLog())
	r.GET("/healthz", s.getHealth)
	r.GET("/readyz", s.getReady)
	r.GET("/metrics", s.getMetrics)
	r.GET("/openapi.json", s.getOpenAPI)
	r.GET("/docs", s.getDocs)
	r.NoRoute(func(c *gin.Context) {
		problem(c, http.StatusNotFound, typeUnknownRoute, "Not found", "no route "+c.Request.Method+" "+c.Request.URL.Path, "")
	})
	v1 := r.Group("/v1", requireToken(s.Token))
	s.v1 = v1

	v1.POST("/datasets", s.createDataset)
	v1.POST("/datasets/form", s.createDatasetForm)
	v1.GET("/datasets", s.listDatasets)
	v1.GET("/datasets/:id", s.getDataset)
	v1.DELETE("/datasets/:id", s.deleteDataset)

	v1.GET("/models", s.listModels)
	v1.POST("/models", s.registerModel)
	v1.POST("/models/init", s.createModel)
	v1.GET("/models/:id", s.getModel)
	v1.GET("/models/:id/files/*name", s.getModelFile)

	v1.POST("/jobs", s.createJob)
	v1.GET("/jobs", s.listJobs)
	v1.GET("/jobs/:id", s.getJob)
	v1.POST("/jobs/:id/cancel", s.cancelJob)
	v1.GET("/jobs/:id/events", s.listEvents)
	v1.GET("/jobs/:id/events/stream", s.streamEvents)
	v1.GET("/jobs/:id/metrics", s.listMetrics)
	v1.GET("/jobs/:id/report", s.getJobReport)
	v1.GET("/jobs/:id/checkpoints", s.listCheckpoints)
	v1.GET("/jobs/:id/artifacts", s.listArtifacts)
	v1.GET("/jobs/:id/artifacts/*name", s.getArtifact)

	v1.POST("/evals", s.createEval)
	v1.GET("/evals", s.listEvals)
	v1.GET("/evals/:id", s.getEval)
	v1.GET("/evals/:id/results", s.listEvalResults)
	v1.GET("/evals/:id/summary", s.getEvalSummary)

	v1.POST("/sandbox/run", s.runSandbox)
	return r
}

// requestLog assigns each request an id (X-Request-ID, taken from the
// request when it carries one), logs one structured line when it ends and
// records the request metrics.
func (s *Server) requestLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-ID")
		if id == "" || len(id) > 128 {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Header("X-Request-ID", id)
		c.Set("request_id", id)
		start := time.Now()
		c.Next()
		elapsed := time.Since(start)
		s.metrics.observe(c, elapsed)
		s.Logger.Info("request", "id", id, "method", c.Request.Method, "path", c.FullPath(),
			"status", c.Writer.Status(), "duration_ms", float64(elapsed.Microseconds())/1000)
	}
}
