package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/api"
)

type fakeReports struct{ gotID, gotBaseline wmss.JobID }

func (f *fakeReports) Report(ctx context.Context, id, baseline wmss.JobID) ([]byte, error) {
	f.gotID, f.gotBaseline = id, baseline
	if id == "job_missing" {
		return nil, &wmss.Error{Code: wmss.ENOTFOUND, Field: "id", Message: "no job job_missing"}
	}
	return []byte("<!DOCTYPE html><title>r</title>"), nil
}

func TestGetJobReport(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := &fakeReports{}
	s := api.NewServer(&api.Server{Logger: quiet, Reports: f})
	t.Run("OK", func(t *testing.T) {
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/jobs/job_w/report?baseline=job_b", nil))
		if w.Code != 200 || w.Header().Get("Content-Type") != "text/html; charset=utf-8" || w.Body.String() != "<!DOCTYPE html><title>r</title>" {
			t.Fatalf("%d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body)
		}
		if f.gotID != "job_w" || f.gotBaseline != "job_b" {
			t.Errorf("builder got %s, %s", f.gotID, f.gotBaseline)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/jobs/job_missing/report", nil))
		if w.Code != 404 {
			t.Errorf("status %d", w.Code)
		}
	})
	t.Run("Unavailable", func(t *testing.T) {
		w := httptest.NewRecorder()
		api.NewServer(&api.Server{Logger: quiet}).Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/jobs/job_w/report", nil))
		if w.Code != 503 {
			t.Errorf("status %d", w.Code)
		}
	})
}
