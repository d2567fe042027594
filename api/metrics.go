package api

import (
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// httpMetrics are the request metrics served at /metrics.
type httpMetrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// newHTTPMetrics registers the request metrics in s.Registry, creating it
// (with the Go runtime and process collectors) when nil.
func newHTTPMetrics(s *Server) *httpMetrics {
	reg := s.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		s.Registry = reg
	}
	m := &httpMetrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wmss_http_requests_total",
			Help: "HTTP requests answered, by method, route pattern and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wmss_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request (event streams: until they close), by method and route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// observe records one finished request. Unmatched paths share the route
// label "unmatched", so scanners cannot grow the label set.
func (m *httpMetrics) observe(c *gin.Context, elapsed time.Duration) {
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(c.Request.Method, route, strconv.Itoa(c.Writer.Status())).Inc()
	m.duration.WithLabelValues(c.Request.Method, route).Observe(elapsed.Seconds())
}

// getMetrics serves the Prometheus metrics in the text exposition format.
//
//	GET /metrics
//
//	@Summary	Prometheus metrics
//	@ID			getMetrics
//	@Tags		health
//	@Produce	plain
//	@Success	200	{string}	string	"Prometheus text exposition format"
//	@Router		/metrics [get]
func (s *Server) getMetrics(c *gin.Context) {
	promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}).ServeHTTP(c.Writer, c.Request)
}
