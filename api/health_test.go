package api_test

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/api"
)

func TestGetHealth(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	rt := wmss.RuntimeInfo{Go: "go1.26.8", Python: "3.11.2", Torch: "1.13.1", Device: "cpu", BLAS: "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3", OpenBLAS: true}
	t.Run("OK", func(t *testing.T) {
		s := api.NewServer(&api.Server{Runtime: rt, Logger: quiet})
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		if w.Code != http.StatusOK {
			t.Fatalf("status = %d", w.Code)
		}
		var got api.HealthResponse
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got.Status != "ok" || got.RuntimeInfo != rt {
			t.Errorf("body = %+v, want status ok and %+v", got, rt)
		}
		if w.Header().Get("X-Request-ID") == "" {
			t.Error("no X-Request-ID header")
		}
	})
	t.Run("EngineUnavailable", func(t *testing.T) {
		s := api.NewServer(&api.Server{Runtime: wmss.RuntimeInfo{Go: "go1.26.8"}, RuntimeErr: errors.New("import torch: ModuleNotFoundError"), Logger: quiet})
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		if w.Code != http.StatusServiceUnavailable {
			t.Fatalf("status = %d, want 503", w.Code)
		}
		var got api.HealthResponse
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got.Status != "unavailable" || got.Error != "import torch: ModuleNotFoundError" {
			t.Errorf("body = %+v", got)
		}
	})
	t.Run("RequestIDKept", func(t *testing.T) {
		s := api.NewServer(&api.Server{Runtime: rt, Logger: quiet})
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "/healthz", nil)
		r.Header.Set("X-Request-ID", "abc123")
		s.Handler().ServeHTTP(w, r)
		if got := w.Header().Get("X-Request-ID"); got != "abc123" {
			t.Errorf("X-Request-ID = %q, want abc123", got)
		}
	})
}
