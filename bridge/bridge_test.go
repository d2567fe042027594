package bridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wmss/wmss/bridge"
)

const selftest = "wmss_engine.selftest:"

var ip *bridge.Interpreter

func TestMain(m *testing.M) {
	if os.Getenv("WMSS_BRIDGE_HELPER") != "" {
		helperProcess()
		return
	}
	var err error
	ip, err = bridge.Start(bridge.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bridge tests need the embedded interpreter:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// helperProcess runs in a child copy of the test binary (os/exec's pattern),
// so that Start can be tried with options this process already used up.
func helperProcess() {
	switch os.Getenv("WMSS_BRIDGE_HELPER") {
	case "missing-module":
		_, err := bridge.Start(bridge.Options{Preload: []string{"torch", "wmss_no_such_module"}})
		fmt.Println(err)
	case "missing-engine":
		_, err := bridge.Start(bridge.Options{EngineDir: os.TempDir()})
		fmt.Println(err)
	}
	os.Exit(0)
}

func runHelper(t *testing.T, mode string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "WMSS_BRIDGE_HELPER="+mode)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper %s: %v\n%s", mode, err, out)
	}
	return string(out)
}

func TestStart_SameInterpreter(t *testing.T) {
	again, err := bridge.Start(bridge.Options{Executable: "/nonexistent"})
	if err != nil || again != ip {
		t.Fatalf("second Start = %p, %v; want the first interpreter %p", again, err, ip)
	}
}

func TestCall_Concurrent(t *testing.T) {
	const goroutines, calls = 64, 200
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < calls; i++ {
				got, err := bridge.CallInto[struct{ Sum int }](ctx, ip, selftest+"add", map[string]int{"a": g * 1000, "b": i})
				if err != nil {
					errs <- err
					return
				}
				if want := g*1000 + i; got.Sum != want {
					errs <- fmt.Errorf("goroutine %d call %d: sum = %d, want %d", g, i, got.Sum, want)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestCall_TorchForwardBackward is the regression test for the crash in
// design.md: torch imported on one thread state, backward() on a later call.
// Every result must equal the first result for the same seed.
func TestCall_TorchForwardBackward(t *testing.T) {
	type step struct {
		Loss     float64
		GradNorm float64 `json:"grad_norm"`
	}
	const goroutines, calls, seeds = 16, 1000, 10
	ctx := context.Background()
	want := make([]step, seeds)
	for s := range want {
		r, err := bridge.CallInto[step](ctx, ip, selftest+"torch_step", map[string]int{"seed": s})
		if err != nil {
			t.Fatal(err)
		}
		if r.Loss <= 0 || r.GradNorm <= 0 {
			t.Fatalf("seed %d: step = %+v, want positive loss and grad norm", s, r)
		}
		want[s] = r
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	bad := 0
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < calls; i += goroutines {
				s := i % seeds
				r, err := bridge.CallInto[step](ctx, ip, selftest+"torch_step", map[string]int{"seed": s})
				if err != nil || r != want[s] {
					mu.Lock()
					if bad++; bad < 5 {
						t.Errorf("call %d seed %d: %+v, %v; want %+v", i, s, r, err, want[s])
					}
					mu.Unlock()
				}
			}
		}(g)
	}
	wg.Wait()
}

func TestCall_PythonException(t *testing.T) {
	_, err := ip.Call(context.Background(), selftest+"fail", map[string]string{"kind": "KeyError", "message": "no such sample"})
	var pe *bridge.PyError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %#v, want *bridge.PyError", err)
	}
	if pe.Type != "KeyError" || pe.Message != "'no such sample'" || pe.Op != selftest+"fail" {
		t.Errorf("PyError = {Op %q Type %q Message %q}", pe.Op, pe.Type, pe.Message)
	}
	for _, s := range []string{"Traceback (most recent call last)", "selftest.py", "in inner", "raise exc(message)", "KeyError: 'no such sample'"} {
		if !strings.Contains(pe.Traceback, s) {
			t.Errorf("traceback lacks %q:\n%s", s, pe.Traceback)
		}
	}
	if got, want := err.Error(), "bridge: wmss_engine.selftest:fail: KeyError: 'no such sample'"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	// The interpreter is usable afterwards.
	if r, err := bridge.CallInto[struct{ Sum int }](context.Background(), ip, selftest+"add", map[string]int{"a": 2, "b": 3}); err != nil || r.Sum != 5 {
		t.Errorf("after exception: %+v, %v", r, err)
	}
}

func TestCall_Errors(t *testing.T) {
	ctx := context.Background()
	t.Run("NotExported", func(t *testing.T) {
		_, err := ip.Call(ctx, selftest+"_cancelled", nil)
		var pe *bridge.PyError
		if !errors.As(err, &pe) || pe.Type != "AttributeError" || !strings.Contains(pe.Message, "not in __all__") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("NoModule", func(t *testing.T) {
		_, err := ip.Call(ctx, "wmss_engine.nope:f", nil)
		var pe *bridge.PyError
		if !errors.As(err, &pe) || pe.Type != "ModuleNotFoundError" {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("BadArgs", func(t *testing.T) {
		_, err := ip.Call(ctx, selftest+"add", map[string]int{"a": 1})
		var pe *bridge.PyError
		if !errors.As(err, &pe) || pe.Type != "TypeError" || !strings.Contains(pe.Message, "'b'") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("ArgsNotObject", func(t *testing.T) {
		_, err := ip.Call(ctx, selftest+"noop", []int{1, 2})
		var pe *bridge.PyError
		if !errors.As(err, &pe) || pe.Type != "TypeError" {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("Unencodable", func(t *testing.T) {
		_, err := ip.Call(ctx, selftest+"echo", map[string]any{"value": make(chan int)})
		if err == nil || !strings.Contains(err.Error(), "encode arguments") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("NonFiniteResult", func(t *testing.T) {
		// Python's json would write inf as a bare token that is not JSON;
		// dispatch refuses it instead of handing Go an undecodable reply.
		_, err := ip.Call(ctx, selftest+"add", map[string]float64{"a": 1e308, "b": 1e308})
		var pe *bridge.PyError
		if !errors.As(err, &pe) || pe.Type != "ValueError" || !strings.Contains(pe.Message, "JSON") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestCall_Cancel(t *testing.T) {
	before, err := bridge.CallInto[struct{ Cancelled int }](context.Background(), ip, selftest+"cancel_count", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan time.Duration, 1)
	go func() {
		_, err := ip.Call(ctx, selftest+"wait_for_cancel", map[string]float64{"timeout_s": 30})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		done <- 0
	}()
	time.Sleep(200 * time.Millisecond) // let the call start
	start := time.Now()
	cancel()
	<-done
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("cancelled call returned after %v, want < 100ms", d)
	}
	// The next call runs promptly, so Python stopped the loop (it would
	// otherwise hold the interpreter for 30 s), and it saw the flag.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	after, err := bridge.CallInto[struct{ Cancelled int }](ctx2, ip, selftest+"cancel_count", nil)
	if err != nil {
		t.Fatal(err)
	}
	if after.Cancelled != before.Cancelled+1 {
		t.Errorf("Python saw %d cancellations, want %d", after.Cancelled-before.Cancelled, 1)
	}
	// The flag does not leak into the next call.
	r, err := bridge.CallInto[struct{ Steps int }](ctx2, ip, selftest+"wait_for_cancel", map[string]float64{"timeout_s": 0.05})
	if err != nil || r.Steps == 0 {
		t.Errorf("call after cancel: %+v, %v", r, err)
	}
}

func TestCall_CancelBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ip.Call(ctx, selftest+"noop", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestSignals_GoKeepsSIGTERM(t *testing.T) {
	info, err := bridge.CallInto[struct {
		Executable       string
		SigintIsDefault  bool `json:"sigint_is_default"`
		SigtermIsDefault bool `json:"sigterm_is_default"`
	}](context.Background(), ip, selftest+"sys_info", nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.Executable != bridge.DefaultExecutable {
		t.Errorf("sys.executable = %q, want %q", info.Executable, bridge.DefaultExecutable)
	}
	if !info.SigintIsDefault || !info.SigtermIsDefault {
		t.Errorf("Python installed signal handlers: %+v", info)
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM)
	defer signal.Stop(c)
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-c:
		if s != syscall.SIGTERM {
			t.Errorf("got %v", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("SIGTERM did not reach os/signal")
	}
}

func TestRuntimeInfo(t *testing.T) {
	info, err := bridge.CallInto[map[string]any](context.Background(), ip, "wmss_engine.runtime:info", nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := info["torch"].(string); v == "" {
		t.Errorf("torch version missing: %v", info)
	}
	if d := info["device"]; d != "cpu" && d != "cuda" {
		t.Errorf("device = %v", d)
	}
	if b, _ := info["blas"].(string); b == "" {
		t.Errorf("no BLAS library mapped: %v", info)
	}
	// Start sets a passive OpenMP wait policy unless the user chose one.
	if want := os.Getenv("OMP_WAIT_POLICY"); info["omp_wait_policy"] != want || want == "" {
		t.Errorf("omp_wait_policy = %v, want the Go process's %q (PASSIVE unless set)", info["omp_wait_policy"], want)
	}
}

func TestStart_MissingModule(t *testing.T) {
	out := runHelper(t, "missing-module")
	for _, s := range []string{"import wmss_no_such_module", "ModuleNotFoundError", "python3-torch"} {
		if !strings.Contains(out, s) {
			t.Errorf("Start error lacks %q: %s", s, out)
		}
	}
}

func TestStart_MissingEngine(t *testing.T) {
	out := runHelper(t, "missing-engine")
	for _, s := range []string{"wmss_engine", "ModuleNotFoundError"} {
		if !strings.Contains(out, s) {
			t.Errorf("Start error lacks %q: %s", s, out)
		}
	}
}

func TestCall_LargePayload(t *testing.T) {
	big := strings.Repeat("wmss ✓ ", 1<<17) // about 1 MB of UTF-8
	raw, err := ip.Call(context.Background(), selftest+"echo", map[string]string{"value": big})
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Value string }
	if err := json.Unmarshal(raw, &got); err != nil || got.Value != big {
		t.Fatalf("echo of %d bytes came back as %d bytes (%v)", len(big), len(got.Value), err)
	}
}
