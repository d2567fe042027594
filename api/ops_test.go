package api_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wmss/wmss/api"
)

func get(h *harness, path string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.s.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	return w
}

func TestReady(t *testing.T) {
	h := newHarness(t)
	var r api.ReadyResponse
	h.json(get(h, "/readyz"), 200, &r)
	if r.Status != "ready" || r.Checks["store"] != "ok" || r.Checks["engine"] != "ok" {
		t.Errorf("ready = %+v", r)
	}
	h.store.Close() // the store is now unreachable
	h.json(get(h, "/readyz"), 503, &r)
	if r.Status != "unavailable" || r.Checks["store"] != "unreachable" {
		t.Errorf("closed store = %+v", r)
	}
	h2 := newHarness(t, func(s *api.Server) {
		s.RuntimeErr = errors.New("import torch failed")
		s.Ready = func() error { return errors.New("runner not started") }
	})
	h2.json(get(h2, "/readyz"), 503, &r)
	if r.Checks["engine"] != "import torch failed" || r.Checks["runner"] != "runner not started" || r.Checks["store"] != "ok" {
		t.Errorf("engine down = %+v", r)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	h := newHarness(t)
	h.req(http.MethodGet, "/v1/datasets", nil)
	h.req(http.MethodGet, "/v1/datasets", nil)
	h.req(http.MethodGet, "/v1/datasets/ds_nope", nil)
	w := get(h, "/metrics")
	body := w.Body.String()
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("%d %q", w.Code, w.Header().Get("Content-Type"))
	}
	for _, want := range []string{
		`wmss_http_requests_total{code="200",method="GET",route="/v1/datasets"} 2`,
		`wmss_http_requests_total{code="404",method="GET",route="/v1/datasets/:id"} 1`,
		`wmss_http_request_duration_seconds_count{method="GET",route="/v1/datasets"} 2`,
		"go_goroutines ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestDocs(t *testing.T) {
	h := newHarness(t)
	w := get(h, "/openapi.json")
	var spec struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &spec); err != nil || w.Code != 200 {
		t.Fatalf("%d %v", w.Code, err)
	}
	if !strings.HasPrefix(spec.OpenAPI, "3.0") {
		t.Errorf("openapi = %q", spec.OpenAPI)
	}
	// Every route the server registers is described, and nothing else.
	described := map[string]bool{}
	for p, ops := range spec.Paths {
		for m := range ops {
			described[strings.ToUpper(m)+" "+p] = true
		}
	}
	for _, r := range h.s.Handler().Routes() {
		p := r.Path
		for _, seg := range strings.Split(p, "/") {
			if strings.HasPrefix(seg, ":") || strings.HasPrefix(seg, "*") {
				p = strings.Replace(p, seg, "{"+seg[1:]+"}", 1)
			}
		}
		key := r.Method + " " + p
		if !described[key] {
			t.Errorf("route %s is not in openapi.json", key)
		}
		delete(described, key)
	}
	for k := range described {
		t.Errorf("openapi.json describes %s, which is not a route", k)
	}
	w = get(h, "/docs")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `fetch("/openapi.json")`) || strings.Contains(w.Body.String(), "https://") {
		t.Errorf("docs page: %d, or it loads something from the network", w.Code)
	}
}
