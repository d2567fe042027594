package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/training"
)

// Problem is an RFC 9457 problem details object, served as
// application/problem+json. Type is stable per error kind, so clients can
// branch on it; Field names the offending input when there is one.
type Problem struct {
	Type      string `json:"type"`             // e.g. "https://wmss.dev/problems/invalid"
	Title     string `json:"title"`            // short, fixed per Type
	Status    int    `json:"status"`           // the HTTP status
	Detail    string `json:"detail,omitempty"` // this occurrence, for humans
	Field     string `json:"field,omitempty"`  // offending field, JSON path or "line N: field"
	Instance  string `json:"instance,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	// Errors lists every problem of an uploaded file (dataset uploads),
	// each with its line and field.
	Errors []training.Problem `json:"errors,omitempty"`
}

// problemTypeBase prefixes every problem type URI. The URIs identify error
// kinds; they need not resolve.
const problemTypeBase = "https://wmss.dev/problems/"

// codes maps domain error codes to HTTP statuses and titles. It is the only
// place where that mapping lives.
var codes = map[string]struct {
	status int
	title  string
}{
	wmss.EINVALID:     {http.StatusUnprocessableEntity, "Invalid input"},
	wmss.ENOTFOUND:    {http.StatusNotFound, "Not found"},
	wmss.ECONFLICT:    {http.StatusConflict, "Conflict"},
	wmss.ECANCELED:    {http.StatusConflict, "Cancelled"},
	wmss.EUNAVAILABLE: {http.StatusServiceUnavailable, "Engine unavailable"},
	wmss.EINTERNAL:    {http.StatusInternalServerError, "Internal error"},
}

// Problem types that do not come from a wmss.Error.
const (
	typeMalformed    = "malformed_json"
	typeTooLarge     = "body_too_large"
	typeUnauthorized = "unauthorized"
	typeUnknownRoute = "unknown_route"
	// typeUnsupportedMedia: the Content-Type is not one the route reads.
	typeUnsupportedMedia = "unsupported_media_type"
)

// problem writes a problem response and aborts the request.
func problem(c *gin.Context, status int, typ, title, detail, field string) {
	writeProblem(c, Problem{Type: problemTypeBase + typ, Title: title, Status: status, Detail: detail, Field: field})
}

// writeProblem sends p (Instance and RequestID filled in here) and aborts.
func writeProblem(c *gin.Context, p Problem) {
	id, _ := c.Get("request_id")
	p.RequestID, _ = id.(string)
	p.Instance = c.Request.URL.Path
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(p.Status, p)
	c.Writer.Header().Set("Content-Type", "application/problem+json")
}

// fail answers with the problem matching err. A *wmss.Error keeps its code,
// field and message; any other error is logged and shown as "Internal error".
func (s *Server) fail(c *gin.Context, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		problem(c, http.StatusRequestEntityTooLarge, typeTooLarge, "Request body too large",
			fmt.Sprintf("the body exceeds %d bytes", mbe.Limit), "")
		return
	}
	var ve *training.ValidationError
	if errors.As(err, &ve) {
		f := ve.Unwrap().(*wmss.Error)
		writeProblem(c, Problem{
			Type: problemTypeBase + wmss.EINVALID, Title: codes[wmss.EINVALID].title, Status: http.StatusUnprocessableEntity,
			Detail: fmt.Sprintf("%d invalid row(s); the file was not stored", len(ve.Problems)), Field: f.Field, Errors: ve.Problems,
		})
		return
	}
	var e *wmss.Error
	if !errors.As(err, &e) {
		id, _ := c.Get("request_id")
		s.Logger.Error("internal error", "id", id, "path", c.FullPath(), "err", err)
		problem(c, http.StatusInternalServerError, wmss.EINTERNAL, codes[wmss.EINTERNAL].title, "internal error", "")
		return
	}
	m, ok := codes[e.Code]
	if !ok {
		m = codes[wmss.EINTERNAL]
	}
	detail := e.Message
	if e.Code == wmss.EINTERNAL {
		s.Logger.Error("internal error", "path", c.FullPath(), "err", err)
		detail = "internal error"
	}
	problem(c, m.status, e.Code, m.title, detail, e.Field)
}

// unavailable answers 503 for a route whose dependency what is not wired
// into this server (no engine, no evaluator, no sandbox).
func (s *Server) unavailable(c *gin.Context, what string) {
	s.fail(c, wmss.Errorf(wmss.EUNAVAILABLE, "%s not available on this server", what))
}
