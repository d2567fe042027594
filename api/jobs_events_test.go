package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/api"
)

func TestListEvents(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	j, _, _ := h.store.CreateJob(ctx, &wmss.Job{Kind: wmss.KindWMSS})
	for i := 0; i < 5; i++ {
		h.store.AppendEvent(ctx, j.ID, "step", map[string]int{"step": i})
	}
	var seqs []int64
	after := "0"
	for pages := 0; pages < 10; pages++ {
		var l api.EventList
		h.json(h.req(http.MethodGet, "/v1/jobs/"+string(j.ID)+"/events?limit=2&after="+after, nil), 200, &l)
		for _, e := range l.Events {
			seqs = append(seqs, e.Seq)
		}
		if l.NextAfter == nil {
			break
		}
		after = jsonNum(*l.NextAfter)
	}
	if got := jsonNum(seqs); got != "[1,2,3,4,5]" {
		t.Errorf("seqs = %s", got)
	}
	h.problem(h.req(http.MethodGet, "/v1/jobs/"+string(j.ID)+"/events?after=-1", nil), 422, "invalid", "after")
	h.problem(h.req(http.MethodGet, "/v1/jobs/"+string(j.ID)+"/events?limit=1001", nil), 422, "invalid", "limit")
	h.problem(h.req(http.MethodGet, "/v1/jobs/job_nope/events", nil), 404, "not_found", "id")
}

func jsonNum(v any) string { b, _ := json.Marshal(v); return string(b) }

// sseFrame is one parsed Server-Sent Events frame.
type sseFrame struct{ id, event, data string }

// readFrames parses frames until the stream ends, skipping comment lines.
func readFrames(t *testing.T, r *bufio.Reader, max int) []sseFrame {
	t.Helper()
	var out []sseFrame
	var f sseFrame
	for len(out) < max {
		line, err := r.ReadString('\n')
		if err != nil {
			break
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if f != (sseFrame{}) {
				out = append(out, f)
			}
			f = sseFrame{}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "id: "):
			f.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			f.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			if f.data != "" {
				t.Errorf("two data lines in one frame: %q", line)
			}
			f.data = line[6:]
		default:
			t.Errorf("unexpected SSE line %q", line)
		}
	}
	return out
}

func TestStreamEvents(t *testing.T) {
	h := newHarness(t, func(s *api.Server) { s.HeartbeatInterval = 10 * time.Millisecond })
	srv := httptest.NewServer(h.s.Handler())
	defer srv.Close()
	ctx := context.Background()
	j, _, _ := h.store.CreateJob(ctx, &wmss.Job{Kind: wmss.KindWMSS})
	h.store.SetJobState(ctx, j.ID, wmss.StateRunning, "")
	h.store.AppendEvent(ctx, j.ID, "state", map[string]string{"state": "running"})
	h.store.AppendEvent(ctx, j.ID, "phase", map[string]string{"text": "line1\nline2"})

	open := func(lastID string) (*http.Response, *bufio.Reader) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/jobs/"+string(j.ID)+"/events/stream", nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
			t.Fatalf("status %d, Content-Type %q", resp.StatusCode, ct)
		}
		return resp, bufio.NewReader(resp.Body)
	}
	resp, r := open("")
	got := readFrames(t, r, 2)
	if len(got) != 2 || got[0].id != "1" || got[0].event != "state" || got[1].id != "2" || got[1].event != "phase" {
		t.Fatalf("frames = %+v", got)
	}
	var ev wmss.Event
	if err := json.Unmarshal([]byte(got[1].data), &ev); err != nil || ev.Seq != 2 || !strings.Contains(string(ev.Data), `line1\nline2`) {
		t.Errorf("data = %q (%v)", got[1].data, err)
	}
	// The job ends while the client listens: the last event, then "end".
	h.store.AppendEvent(ctx, j.ID, "state", map[string]string{"state": "succeeded"})
	h.store.SetJobState(ctx, j.ID, wmss.StateSucceeded, "")
	rest := readFrames(t, r, 10)
	resp.Body.Close()
	if len(rest) != 2 || rest[0].id != "3" || rest[1].event != "end" || rest[1].id != "" {
		t.Fatalf("after end: %+v", rest)
	}
	var end wmss.Job
	if err := json.Unmarshal([]byte(rest[1].data), &end); err != nil || end.State != wmss.StateSucceeded {
		t.Errorf("end data = %q", rest[1].data)
	}
	// Resume after seq 2: only event 3 and the end.
	resp, r = open("2")
	resumed := readFrames(t, r, 10)
	resp.Body.Close()
	if len(resumed) != 2 || resumed[0].id != "3" || resumed[1].event != "end" {
		t.Errorf("resumed = %+v", resumed)
	}
	h.problem(h.req(http.MethodGet, "/v1/jobs/"+string(j.ID)+"/events/stream", nil, "Last-Event-ID", "x"), 422, "invalid", "Last-Event-ID")
	h.problem(h.req(http.MethodGet, "/v1/jobs/job_nope/events/stream", nil), 404, "not_found", "id")
}

func TestStreamEvents_Heartbeat(t *testing.T) {
	h := newHarness(t, func(s *api.Server) { s.HeartbeatInterval = 10 * time.Millisecond })
	srv := httptest.NewServer(h.s.Handler())
	defer srv.Close()
	j, _, _ := h.store.CreateJob(context.Background(), &wmss.Job{Kind: wmss.KindWMSS})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v1/jobs/"+string(j.ID)+"/events/stream", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != ": ping\n" {
		t.Errorf("first line of an idle stream = %q, %v", line, err)
	}
}
