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
	r.NoRoute(func(c *gin.Context) {
		problem(c, http.StatusNotFound, typeUnknownRoute, "Not found", "no route "+c.Request.Method+" "+c.Request.URL.Path, "")
	})
	v1 := r.Group("/v1", requireToken(s.Token))
	s.v1 = v1
	return r
}

// requestLog assigns each request an id (X-Request-ID, taken from the
// request when it carries one) and logs one structured line when it ends.
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
		s.Logger.Info("request", "id", id, "method", c.Request.Method, "path", c.FullPath(),
			"status", c.Writer.Status(), "duration_ms", float64(time.Since(start).Microseconds())/1000)
	}
}
