package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/evaluators/sandbox"
)

// SandboxRunRequest is one Python program to run in the sandbox.
type SandboxRunRequest struct {
	Code  string `json:"code" example:"print(int(input()) * 2)"` // required: the program (runs as __main__)
	Stdin string `json:"stdin" example:"21"`                     // standard input, then EOF
	// Tests are snippets run after Code in its globals; each that raises
	// ends the run (failed for AssertionError, runtime_error otherwise).
	Tests []string `json:"tests,omitempty"`
	// ExpectedStdout, when set, must equal the output (line by line,
	// trailing spaces and blank lines ignored) for a pass.
	ExpectedStdout *string       `json:"expected_stdout,omitempty" example:"42"`
	Limits         SandboxLimits `json:"limits"`
}

// SandboxLimits bounds a run; 0 takes the sandbox's default (in brackets).
type SandboxLimits struct {
	CPUTimeMS   int64 `json:"cpu_time_ms" example:"2000"` // CPU time, rounded up to whole seconds, at least 1 s; at most 60 s [5 s]
	WallTimeMS  int64 `json:"wall_time_ms"`               // wall-clock deadline, at most 120 s [2 × CPU time]
	MemoryBytes int64 `json:"memory_bytes"`               // address space (RLIMIT_AS), at most 8 GiB [1 GiB]
	Processes   int   `json:"processes"`                  // processes and threads, at most 256 [32]
	OutputBytes int   `json:"output_bytes"`               // bytes kept of stdout and of stderr each, at most 16 MiB [1 MiB]
}

// SandboxRunResponse is what the run did.
type SandboxRunResponse struct {
	// Verdict is passed, failed, timeout, memory_limit, runtime_error or
	// sandbox_error (a fault of ours, never the program's).
	Verdict         string   `json:"verdict" example:"passed"`
	Reason          string   `json:"reason,omitempty"`
	ExitCode        int      `json:"exit_code"`        // -1 when a signal ended it
	Signal          string   `json:"signal,omitempty"` // the signal that ended it
	Stdout          string   `json:"stdout"`
	Stderr          string   `json:"stderr"`
	StdoutBytes     int64    `json:"stdout_bytes"` // everything written, kept or not
	StderrBytes     int64    `json:"stderr_bytes"`
	StdoutTruncated bool     `json:"stdout_truncated"`
	StderrTruncated bool     `json:"stderr_truncated"`
	TestsPassed     int      `json:"tests_passed"`
	CPUTimeMS       float64  `json:"cpu_time_ms"`     // user + system CPU time
	WallTimeMS      float64  `json:"wall_time_ms"`    // start to exit
	MaxRSSBytes     int64    `json:"max_rss_bytes"`   // peak resident memory
	Retried         bool     `json:"retried"`         // a wall-clock timeout was re-run once alone
	Notes           []string `json:"notes,omitempty"` // limits clamped and similar adjustments
}

// Upper bounds of SandboxLimits, so one request cannot hold a slot for long.
const (
	maxSandboxCPU    = 60 * time.Second
	maxSandboxWall   = 120 * time.Second
	maxSandboxMemory = 8 << 30
	maxSandboxProcs  = 256
	maxSandboxOutput = 16 << 20
)

// limits converts l, naming the first field out of range.
func (l SandboxLimits) limits() (sandbox.Limits, error) {
	check := []struct {
		field  string
		v, max int64
	}{
		{"limits.cpu_time_ms", l.CPUTimeMS, maxSandboxCPU.Milliseconds()},
		{"limits.wall_time_ms", l.WallTimeMS, maxSandboxWall.Milliseconds()},
		{"limits.memory_bytes", l.MemoryBytes, maxSandboxMemory},
		{"limits.processes", int64(l.Processes), maxSandboxProcs},
		{"limits.output_bytes", int64(l.OutputBytes), maxSandboxOutput},
	}
	for _, c := range check {
		if c.v < 0 || c.v > c.max {
			return sandbox.Limits{}, wmss.FieldErrorf(c.field, "want 0 (default) to %d, got %d", c.max, c.v)
		}
	}
	return sandbox.Limits{
		CPUTime: time.Duration(l.CPUTimeMS) * time.Millisecond, WallTime: time.Duration(l.WallTimeMS) * time.Millisecond,
		AddressSpace: l.MemoryBytes, Processes: l.Processes, Output: l.OutputBytes,
	}, nil
}

// runSandbox runs one program in the code sandbox (fresh namespaces,
// rlimits, a wall deadline) and reports its verdict, output, time and
// memory. The program's own failure is a 200 with its verdict; 503 means
// the sandbox cannot run here (no user namespaces).
//
//	POST /v1/sandbox/run
//
//	@Summary	Run one program in the sandbox
//	@ID			runSandbox
//	@Tags		sandbox
//	@Accept		json
//	@Produce	json
//	@Param		body	body		SandboxRunRequest	true	"program, stdin and limits"
//	@Success	200		{object}	SandboxRunResponse
//	@Failure	400,401,413,422,503	{object}	Problem
//	@Router		/v1/sandbox/run [post]
//	@Security	BearerAuth
func (s *Server) runSandbox(c *gin.Context) {
	if s.Sandbox == nil {
		s.unavailable(c, "the sandbox")
		return
	}
	var req SandboxRunRequest
	if !bindJSON(c, &req, DefaultMaxBody) {
		return
	}
	if req.Code == "" {
		s.fail(c, wmss.FieldErrorf("code", "code is required"))
		return
	}
	lim, err := req.Limits.limits()
	if err != nil {
		s.fail(c, err)
		return
	}
	p := sandbox.Program{Code: req.Code, Tests: req.Tests, Stdin: []byte(req.Stdin)}
	if req.ExpectedStdout != nil {
		p.CheckStdout, p.ExpectedStdout = true, *req.ExpectedStdout
	}
	r := s.Sandbox.Run(c.Request.Context(), p, lim)
	var we *wmss.Error
	if r.Verdict == sandbox.SandboxError && errors.As(r.Err, &we) {
		s.fail(c, r.Err) // our fault or bad limits: 503 / 422, not a verdict
		return
	}
	c.JSON(http.StatusOK, SandboxRunResponse{
		Verdict: r.Verdict.String(), Reason: r.Reason, ExitCode: r.ExitCode, Signal: r.Signal,
		Stdout: r.Stdout, Stderr: r.Stderr, StdoutBytes: r.StdoutBytes, StderrBytes: r.StderrBytes,
		StdoutTruncated: r.StdoutTruncated, StderrTruncated: r.StderrTruncated, TestsPassed: r.TestsPassed,
		CPUTimeMS: ms(r.CPUTime), WallTimeMS: ms(r.WallTime), MaxRSSBytes: r.MaxRSS, Retried: r.Retried, Notes: r.Notes,
	})
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
