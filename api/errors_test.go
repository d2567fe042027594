package api_test

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/api"
)

type probeReq struct {
	Name string  `json:"name"`
	LR   float64 `json:"lr"`
	Opt  struct {
		Steps int `json:"steps"`
	} `json:"optimizer"`
}

// newProbeServer mounts POST /v1/probe, which decodes a probeReq strictly,
// and GET /v1/fail/:code, which fails with that wmss error code.
func newProbeServer(token string) *api.Server {
	s := api.NewServer(&api.Server{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Token: token})
	s.V1().POST("/probe", func(c *gin.Context) {
		var r probeReq
		if !api.BindJSONForTest(c, &r, 256) {
			return
		}
		c.JSON(http.StatusOK, r)
	})
	s.V1().GET("/fail/:code", func(c *gin.Context) {
		if c.Param("code") == "plain" {
			api.FailForTest(s, c, errors.New("disk on fire at /secret/path"))
			return
		}
		api.FailForTest(s, c, &wmss.Error{Code: c.Param("code"), Field: "spec.lr", Message: "must be > 0"})
	})
	return s
}

func do(s *api.Server, method, path, body, token string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	return w
}

func decodeProblem(t *testing.T, w *httptest.ResponseRecorder) api.Problem {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	var p api.Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("body %q: %v", w.Body.String(), err)
	}
	if p.Status != w.Code {
		t.Errorf("problem status %d != HTTP status %d", p.Status, w.Code)
	}
	return p
}

func TestAuth(t *testing.T) {
	s := newProbeServer("s3cret")
	for _, tc := range []struct{ name, token string }{{"Missing", ""}, {"Wrong", "s3cre"}, {"Longer", "s3cret2"}} {
		t.Run(tc.name, func(t *testing.T) {
			w := do(s, http.MethodPost, "/v1/probe", `{}`, tc.token)
			if w.Code != http.StatusUnauthorized {
				t.Fatalf("status = %d, want 401", w.Code)
			}
			if p := decodeProblem(t, w); !strings.HasSuffix(p.Type, "/unauthorized") {
				t.Errorf("type = %q", p.Type)
			}
		})
	}
	t.Run("OK", func(t *testing.T) {
		if w := do(s, http.MethodPost, "/v1/probe", `{"name":"a"}`, "s3cret"); w.Code != http.StatusOK {
			t.Fatalf("status = %d: %s", w.Code, w.Body)
		}
	})
	t.Run("HealthzOpen", func(t *testing.T) {
		if w := do(s, http.MethodGet, "/healthz", ``, ""); w.Code != http.StatusOK {
			t.Errorf("healthz without token = %d", w.Code)
		}
	})
}

func TestBindJSON(t *testing.T) {
	s := newProbeServer("")
	cases := []struct {
		name, body string
		status     int
		typ, field string
	}{
		{"OK", `{"name":"x","lr":0.5,"optimizer":{"steps":3}}`, 200, "", ""},
		{"Malformed", `{"name":`, 400, "malformed_json", ""},
		{"Empty", ``, 400, "malformed_json", ""},
		{"Trailing", `{"name":"x"} {}`, 400, "malformed_json", ""},
		{"UnknownField", `{"name":"x","lamda":0.5}`, 422, "invalid", "lamda"},
		{"WrongType", `{"lr":"fast"}`, 422, "invalid", "lr"},
		{"WrongNestedType", `{"optimizer":{"steps":"3"}}`, 422, "invalid", "optimizer.steps"},
		{"TooLarge", `{"name":"` + strings.Repeat("x", 300) + `"}`, 413, "body_too_large", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := do(s, http.MethodPost, "/v1/probe", tc.body, "")
			if w.Code != tc.status {
				t.Fatalf("status = %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if tc.status == 200 {
				return
			}
			p := decodeProblem(t, w)
			if p.Type != "https://wmss.dev/problems/"+tc.typ || p.Field != tc.field {
				t.Errorf("problem = %+v, want type %s field %q", p, tc.typ, tc.field)
			}
		})
	}
}

func TestFail(t *testing.T) {
	s := newProbeServer("")
	for _, tc := range []struct {
		code   string
		status int
	}{{wmss.EINVALID, 422}, {wmss.ENOTFOUND, 404}, {wmss.ECONFLICT, 409}, {wmss.EUNAVAILABLE, 503}} {
		t.Run(tc.code, func(t *testing.T) {
			w := do(s, http.MethodGet, "/v1/fail/"+tc.code, "", "")
			p := decodeProblem(t, w)
			if w.Code != tc.status || p.Field != "spec.lr" || p.Detail != "must be > 0" || p.RequestID == "" {
				t.Errorf("%d %+v", w.Code, p)
			}
		})
	}
	t.Run("PlainErrorHidden", func(t *testing.T) {
		w := do(s, http.MethodGet, "/v1/fail/plain", "", "")
		p := decodeProblem(t, w)
		if w.Code != 500 || strings.Contains(w.Body.String(), "secret") || p.Detail != "internal error" {
			t.Errorf("%d %s", w.Code, w.Body)
		}
	})
	t.Run("UnknownRoute", func(t *testing.T) {
		w := do(s, http.MethodGet, "/v2/nothing", "", "")
		if p := decodeProblem(t, w); w.Code != 404 || !strings.HasSuffix(p.Type, "/unknown_route") {
			t.Errorf("%d %+v", w.Code, p)
		}
	})
}
