package api

import "github.com/gin-gonic/gin"

// V1 exposes the authenticated route group so tests can mount probes on it.
func (s *Server) V1() *gin.RouterGroup { return s.v1 }

// BindJSONForTest exposes bindJSON.
func BindJSONForTest(c *gin.Context, v any, max int64) bool { return bindJSON(c, v, max) }

// FailForTest exposes Server.fail.
func FailForTest(s *Server, c *gin.Context, err error) { s.fail(c, err) }
