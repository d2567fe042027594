package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/api"
	"github.com/wmss/wmss/evaluators/sandbox"
)

func TestRunSandbox(t *testing.T) {
	h := newHarness(t)
	h.sandbox.Result = sandbox.Result{Verdict: sandbox.Timeout, Reason: "wall deadline 2s passed", ExitCode: -1, Signal: "killed",
		Stdout: "42\n", StdoutBytes: 3, CPUTime: 1500 * time.Millisecond, WallTime: 2 * time.Second, MaxRSS: 9 << 20}
	var r api.SandboxRunResponse
	h.json(h.req(http.MethodPost, "/v1/sandbox/run", []byte(`{"code":"print(42)","stdin":"x","expected_stdout":"42","limits":{"cpu_time_ms":1500,"memory_bytes":268435456}}`)), 200, &r)
	if r.Verdict != "timeout" || r.Stdout != "42\n" || r.CPUTimeMS != 1500 || r.WallTimeMS != 2000 || r.MaxRSSBytes != 9<<20 || r.ExitCode != -1 {
		t.Errorf("response = %+v", r)
	}
	last := h.sandbox.Last
	if last.Code != "print(42)" || string(last.Stdin) != "x" || !last.CheckStdout || last.ExpectedStdout != "42" ||
		h.sandbox.Limits.CPUTime != 1500*time.Millisecond || h.sandbox.Limits.AddressSpace != 1<<28 {
		t.Errorf("program = %+v limits = %+v", last, h.sandbox.Limits)
	}
	for _, tc := range []struct{ name, body, field string }{
		{"NoCode", `{"stdin":"x"}`, "code"},
		{"NegativeCPU", `{"code":"1","limits":{"cpu_time_ms":-1}}`, "limits.cpu_time_ms"},
		{"HugeMemory", `{"code":"1","limits":{"memory_bytes":1099511627776}}`, "limits.memory_bytes"},
		// encoding/json names an unknown nested field without its path.
		{"UnknownLimit", `{"code":"1","limits":{"gpu":1}}`, "gpu"},
		{"WrongType", `{"code":1}`, "code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.problem(h.req(http.MethodPost, "/v1/sandbox/run", []byte(tc.body)), 422, "invalid", tc.field)
		})
	}
	h.sandbox.Result = sandbox.Result{Verdict: sandbox.SandboxError, Err: wmss.Errorf(wmss.EUNAVAILABLE, "sandbox unavailable: no user namespaces")}
	h.problem(h.req(http.MethodPost, "/v1/sandbox/run", []byte(`{"code":"1"}`)), 503, "unavailable", "")
	h2 := newHarness(t, func(s *api.Server) { s.Sandbox = nil })
	h2.problem(h2.req(http.MethodPost, "/v1/sandbox/run", []byte(`{"code":"1"}`)), 503, "unavailable", "")
}

// TestRunSandbox_Real runs programs in the real sandbox through the API.
func TestRunSandbox_Real(t *testing.T) {
	if err := sandbox.Available(); err != nil {
		t.Skip(err)
	}
	h := newHarness(t, func(s *api.Server) { s.Sandbox = sandbox.New(sandbox.Options{Concurrency: 2}) })
	_ = context.Background()
	var r api.SandboxRunResponse
	h.json(h.req(http.MethodPost, "/v1/sandbox/run", []byte(`{"code":"print(int(input())*2)","stdin":"21\n","expected_stdout":"42"}`)), 200, &r)
	if r.Verdict != "passed" || r.Stdout != "42\n" || r.WallTimeMS <= 0 || r.MaxRSSBytes <= 0 {
		t.Errorf("passed run = %+v", r)
	}
	h.json(h.req(http.MethodPost, "/v1/sandbox/run", []byte(`{"code":"while True: pass","limits":{"cpu_time_ms":1000}}`)), 200, &r)
	if r.Verdict != "timeout" {
		t.Errorf("busy loop = %+v", r)
	}
}
