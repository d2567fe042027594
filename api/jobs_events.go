package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wmss/wmss"
)

// EventList is one page of GET /v1/jobs/{id}/events.
type EventList struct {
	Events []wmss.Event `json:"events"`
	// NextAfter, when set, is the after query value of the next page; it is
	// absent when this page was not full (wait and poll again with the last
	// seq, or use the stream).
	NextAfter *int64 `json:"next_after,omitempty"`
}

// listEvents returns a job's events in order, one page at a time.
//
//	GET /v1/jobs/:id/events
//
//	@Summary	List a job's events
//	@ID			listJobEvents
//	@Tags		jobs
//	@Produce	json
//	@Param		id		path		string	true	"job id"
//	@Param		after	query		int		false	"only events with seq > after"	default(0)	minimum(0)
//	@Param		limit	query		int		false	"page size, 1 to 1000"			default(100)	minimum(1)	maximum(1000)
//	@Success	200		{object}	EventList
//	@Failure	401,404,422,503	{object}	Problem
//	@Router		/v1/jobs/{id}/events [get]
//	@Security	BearerAuth
func (s *Server) listEvents(c *gin.Context) {
	j, ok := s.job(c, "")
	if !ok {
		return
	}
	after, ok := s.seqQuery(c, "after", c.Query("after"))
	if !ok {
		return
	}
	limit, ok := s.intQuery(c, "limit", 100, 1, 1000)
	if !ok {
		return
	}
	evs, err := s.Store.ListEvents(c.Request.Context(), j.ID, after, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := EventList{Events: evs}
	if out.Events == nil {
		out.Events = []wmss.Event{}
	}
	if len(evs) == limit {
		last := evs[len(evs)-1].Seq
		out.NextAfter = &last
	}
	c.JSON(http.StatusOK, out)
}

// seqQuery parses an event sequence number (≥ 0; "" is 0), answering 422
// naming field when it is not one.
func (s *Server) seqQuery(c *gin.Context, field, v string) (int64, bool) {
	if v == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		s.fail(c, wmss.FieldErrorf(field, "want a non-negative integer event seq, got %q", v))
		return 0, false
	}
	return n, true
}

// streamEvents streams a job's events as Server-Sent Events. Each event is
// sent as "id: <seq>", "event: <type>" and "data: <the Event as JSON>"; a
// client that reconnects with Last-Event-ID (or ?after=) resumes after that
// seq. When the job has ended and every event was sent, a final "end" event
// carries the job, and the stream closes. Idle streams get a ": ping"
// comment line every HeartbeatInterval.
//
//	GET /v1/jobs/:id/events/stream
//
//	@Summary	Stream a job's events (Server-Sent Events)
//	@ID			streamJobEvents
//	@Tags		jobs
//	@Produce	text/event-stream
//	@Param		id				path		string	true	"job id"
//	@Param		Last-Event-ID	header		string	false	"resume after this seq"
//	@Param		after			query		int		false	"resume after this seq (when Last-Event-ID is absent)"
//	@Success	200				{string}	string	"text/event-stream of id/event/data frames"
//	@Failure	401,404,422,503	{object}	Problem
//	@Router		/v1/jobs/{id}/events/stream [get]
//	@Security	BearerAuth
func (s *Server) streamEvents(c *gin.Context) {
	j, ok := s.job(c, "")
	if !ok {
		return
	}
	field, v := "Last-Event-ID", c.GetHeader("Last-Event-ID")
	if v == "" {
		field, v = "after", c.Query("after")
	}
	after, ok := s.seqQuery(c, field, v)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	w := c.Writer
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	w.Flush()
	poll := time.NewTicker(s.PollInterval)
	defer poll.Stop()
	lastWrite := time.Now()
	for {
		// Read the state before the events: a job seen ended here has
		// appended all its events, so one more read drains them.
		cur, err := s.Store.GetJob(ctx, j.ID)
		if err != nil {
			s.Logger.Error("event stream", "job", j.ID, "err", err)
			return
		}
		evs, err := s.Store.ListEvents(ctx, j.ID, after, 1000)
		if err != nil {
			s.Logger.Error("event stream", "job", j.ID, "err", err)
			return
		}
		for _, ev := range evs {
			if err := writeSSE(w, strconv.FormatInt(ev.Seq, 10), ev.Type, ev); err != nil {
				return
			}
			after = ev.Seq
		}
		if len(evs) > 0 {
			w.Flush()
			lastWrite = time.Now()
		}
		if len(evs) == 1000 {
			continue // more are waiting
		}
		if cur.State.Terminal() {
			_ = writeSSE(w, "", "end", cur)
			w.Flush()
			return
		}
		if time.Since(lastWrite) >= s.HeartbeatInterval {
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
			w.Flush()
			lastWrite = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
		}
	}
}

// lineBreaks keeps an event type on its one line of the frame.
var lineBreaks = strings.NewReplacer("\r", " ", "\n", " ")

// writeSSE writes one Server-Sent Events frame whose data is v as JSON (a
// single line: encoding/json escapes newlines inside strings).
func writeSSE(w http.ResponseWriter, id, event string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if id != "" {
		if _, err := fmt.Fprintf(w, "id: %s\n", id); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", lineBreaks.Replace(event), b)
	return err
}
