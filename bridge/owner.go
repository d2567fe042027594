package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The owner goroutine.
//
// CPython binds each thread state to the OS thread that created it, and
// torch (through pybind11) caches the thread state of the thread it was
// imported on. If that state is later destroyed, as happens when calls hop
// between OS threads and take the GIL with PyGILState_Ensure/Release, the
// next autograd call dereferences the dangling state: measured here, the
// second call segfaults inside backward(). So one goroutine locks itself to
// one OS thread for the life of the process, initialises Python there,
// imports torch and the engine there, and runs every call from a queue.
// Between calls it releases the GIL but keeps its thread state.
// See https://docs.python.org/3/c-api/init.html#thread-state-and-the-global-interpreter-lock

// Interpreter is the process's embedded CPython. It is safe for concurrent
// use; calls run one at a time, in arrival order, on the owner thread.
type Interpreter struct {
	queue chan *request
	info  StartInfo

	mu      sync.Mutex // guards current and the C cancel flag
	current *request
	seq     atomic.Uint64
}

// StartInfo describes the interpreter Start brought up.
type StartInfo struct {
	Executable string // sys.executable as configured
	EngineDir  string // first entry of sys.path
}

type request struct {
	module, function string
	args             []byte
	reply            chan reply
	abandoned        atomic.Bool // the caller stopped waiting
}

type reply struct {
	result []byte
	err    error
}

var (
	startOnce sync.Once
	started   *Interpreter
	startErr  error
)

// Start brings up the process's interpreter on first use and returns it;
// later calls return the same interpreter (or the same error) and ignore
// their options, because CPython cannot be re-initialised in one process.
//
// Start fails when libpython cannot initialise, when the engine directory
// lacks wmss_engine, or when a preloaded module (torch by default) cannot
// be imported; the error then names the Debian packages to install.
func Start(opts Options) (*Interpreter, error) {
	startOnce.Do(func() { started, startErr = start(opts) })
	return started, startErr
}

func start(opts Options) (*Interpreter, error) {
	// torch's OpenMP threads busy-wait by default; beside OpenBLAS's own
	// pthreads that starves the matmuls when threads outnumber cores
	// (measured here: a training step 3x slower). libgomp reads this once,
	// when torch loads, so it is set before the interpreter starts, unless
	// the user chose a policy.
	if _, ok := os.LookupEnv("OMP_WAIT_POLICY"); !ok {
		os.Setenv("OMP_WAIT_POLICY", "PASSIVE")
	}
	if opts.Executable == "" {
		opts.Executable = os.Getenv("WMSS_PYTHON")
	}
	if opts.Executable == "" {
		opts.Executable = DefaultExecutable
	}
	if opts.EngineDir == "" {
		opts.EngineDir = EngineDirFromEnv()
	}
	if opts.Preload == nil {
		opts.Preload = []string{"torch"}
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 1024
	}
	ip := &Interpreter{
		queue: make(chan *request, opts.QueueSize),
		info:  StartInfo{Executable: opts.Executable, EngineDir: opts.EngineDir},
	}
	ready := make(chan error, 1)
	go ip.own(opts, ready)
	if err := <-ready; err != nil {
		return nil, err
	}
	return ip, nil
}

// own is the owner goroutine: it never returns and never unlocks its thread.
func (ip *Interpreter) own(opts Options, ready chan<- error) {
	runtime.LockOSThread()
	if err := pyInit(opts.Executable, opts.EngineDir); err != nil {
		ready <- fmt.Errorf("bridge: start Python (%s, engine in %s): %w; install the Debian packages %s",
			opts.Executable, opts.EngineDir, err, RequiredPackages)
		return
	}
	for _, m := range opts.Preload {
		if err := pyImport(m); err != nil {
			ready <- fmt.Errorf("bridge: import %s in %s: %w; install the Debian packages %s",
				m, opts.Executable, err, RequiredPackages)
			return
		}
	}
	ready <- nil
	for {
		req := spinRecv(ip.queue, ownerSpin)
		if req.abandoned.Load() {
			continue // the caller gave up before the call started
		}
		ip.mu.Lock()
		// Checked again under mu: a caller that gives up sets abandoned and
		// then takes mu, so either it sees current == req and raises the
		// cancel flag, or we see abandoned here.
		if req.abandoned.Load() {
			ip.mu.Unlock()
			continue
		}
		ip.current = req
		pySetCancel(false)
		ip.mu.Unlock()

		res, err := pyCall(req.module, req.function, req.args)

		ip.mu.Lock()
		ip.current = nil
		pySetCancel(false)
		ip.mu.Unlock()
		req.reply <- reply{res, err} // buffered: never blocks
	}
}

// Info returns what Start configured.
func (ip *Interpreter) Info() StartInfo { return ip.info }

// Call runs a Python function on the owner thread and returns its JSON
// result. function is an operation of EngineModule ("sft_step") or a
// qualified "package.module:function" whose module lists it in __all__.
// args is encoded with encoding/json and must encode to a JSON object (nil
// means no arguments).
//
// When ctx ends first, Call returns ctx.Err() at once. A call that has not
// started is dropped; a running one sees wmss_engine.cancel.requested()
// turn true and should stop at its next check, leaving the interpreter
// ready for the next call. Python exceptions come back as *PyError.
func (ip *Interpreter) Call(ctx context.Context, function string, args any) (json.RawMessage, error) {
	module, name := EngineModule, function
	if i := strings.LastIndexByte(function, ':'); i >= 0 {
		module, name = function[:i], function[i+1:]
	}
	var body []byte
	if args != nil {
		var err error
		if body, err = json.Marshal(args); err != nil {
			return nil, fmt.Errorf("bridge: %s: encode arguments: %w", function, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	req := &request{module: module, function: name, args: body, reply: make(chan reply, 1)}
	select {
	case ip.queue <- req:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if r, ok := spinTryRecv(req.reply, callerSpin); ok {
		return ip.finish(function, r)
	}
	select {
	case r := <-req.reply:
		return ip.finish(function, r)
	case <-ctx.Done():
		req.abandoned.Store(true)
		ip.mu.Lock()
		if ip.current == req {
			pySetCancel(true)
		}
		ip.mu.Unlock()
		return nil, ctx.Err()
	}
}

func (ip *Interpreter) finish(function string, r reply) (json.RawMessage, error) {
	if pe, ok := r.err.(*PyError); ok {
		pe.Op = function
	}
	return r.result, r.err
}

// Spinning before parking.
//
// A call's round trip otherwise costs two park/wake cycles of OS threads:
// the owner goroutine is locked to its thread, so the scheduler must wake
// that very thread for each request, and the caller is woken for each
// reply. Measured here that is about 35 µs for a no-op call, against 1.6 µs
// spent in Python. Both sides therefore poll their channel for a short
// window before they block (as sync.Mutex spins before it sleeps), which
// makes back-to-back calls cheap and costs at most the window of one core
// per call.
const (
	ownerSpin  = 50 * time.Microsecond  // after each call, for the next request
	callerSpin = 100 * time.Microsecond // after sending, for the reply
)

// spinRecv receives from c, polling for up to d before blocking.
func spinRecv[T any](c <-chan T, d time.Duration) T {
	if v, ok := spinTryRecv(c, d); ok {
		return v
	}
	return <-c
}

// spinTryRecv polls c for up to d; ok is false when nothing arrived.
func spinTryRecv[T any](c <-chan T, d time.Duration) (v T, ok bool) {
	deadline := time.Now().Add(d)
	for {
		select {
		case v = <-c:
			return v, true
		default:
		}
		if time.Now().After(deadline) {
			return v, false
		}
	}
}
