// Command wmss is the wmss service and its tools in one binary.
//
//	wmss serve [--addr HOST:PORT] [--data-dir DIR]   start the HTTP API
//	wmss version                                       print versions and exit
//	wmss init-model --size tiny --out DIR               random-init model in HF layout
//	wmss eval --model DIR --benchmarks a,b --out DIR     evaluate; gates set the exit code
//	wmss compare A/results.json B/results.json          paired significance test
//
// The server embeds CPython with PyTorch through package bridge; Go owns the
// signals (SIGINT, SIGTERM end the server gracefully).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/api"
	"github.com/wmss/wmss/bridge"
	"github.com/wmss/wmss/evaluators/sandbox"
	"github.com/wmss/wmss/internal/datastore"
	"github.com/wmss/wmss/internal/report"
	"github.com/wmss/wmss/internal/sqlite"
)

const usage = `usage: wmss <command> [flags]   (wmss <command> --help for its flags)

commands:
  serve        start the HTTP API
  init-model   write a random-init model in HF layout (--size tiny|small --out DIR)
  eval         evaluate a model on benchmarks; results.json, items.jsonl, junit.xml (docs/eval.md)
  compare      paired comparison of two results.json files
  demo         the client half of make demo: SFT baseline vs WMSS through a running server
  version      print the Go, Python and torch versions and the BLAS in use
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command and returns the process exit code: 0 success,
// 1 failure, 2 usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		m := NewMain(stdout, stderr)
		if err := m.ParseFlags(args[1:]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if err := m.Run(ctx); err != nil {
			fmt.Fprintln(stderr, "wmss serve:", err)
			return 1
		}
		return 0
	case "version":
		info, _, err := startEngine(ctx)
		out, _ := jsonIndent(info)
		fmt.Fprintln(stdout, out)
		if err != nil {
			fmt.Fprintln(stderr, "wmss version:", err)
			return 1
		}
		return 0
	case "eval":
		return runEval(ctx, args[1:], stdout, stderr)
	case "init-model":
		return runInitModel(ctx, args[1:], stdout, stderr)
	case "demo":
		return runDemo(ctx, args[1:], stdout, stderr)
	case "compare":
		return runCompare(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "wmss: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

// startEngine brings up the embedded interpreter and reads its runtime
// facts. The Go version is filled in even when the engine fails.
func startEngine(ctx context.Context) (wmss.RuntimeInfo, *bridge.Interpreter, error) {
	info := wmss.RuntimeInfo{Go: runtime.Version()}
	ip, err := bridge.Start(bridge.Options{})
	if err != nil {
		return info, nil, err
	}
	got, err := bridge.CallInto[wmss.RuntimeInfo](ctx, ip, "wmss_engine.runtime:info", nil)
	if err != nil {
		return info, nil, err
	}
	got.Go = info.Go
	return got, ip, nil
}

// Main is the server process: flags in, HTTP server out. Tests run it on
// 127.0.0.1:0 and read the bound address from Addr.
type Main struct {
	ListenAddr string // --addr, $WMSS_ADDR
	DataDir    string // --data-dir, $WMSS_DATA_DIR
	Token      string // $WMSS_TOKEN, or the contents of --token-file / $WMSS_TOKEN_FILE
	TokenFile  string
	Device     string // --device, $WMSS_DEVICE: auto (the GPU when there is one), cpu, cuda, cuda:N

	// Addr is the address actually bound, set once Run is listening.
	Addr chan net.Addr

	stdout, stderr io.Writer
	logger         *slog.Logger
}

// NewMain returns a Main with defaults from the environment.
func NewMain(stdout, stderr io.Writer) *Main {
	return &Main{
		ListenAddr: envOr("WMSS_ADDR", "127.0.0.1:8080"),
		DataDir:    envOr("WMSS_DATA_DIR", "data"),
		Token:      os.Getenv("WMSS_TOKEN"),
		TokenFile:  os.Getenv("WMSS_TOKEN_FILE"),
		Device:     envOr("WMSS_DEVICE", "auto"),
		Addr:       make(chan net.Addr, 1),
		stdout:     stdout,
		stderr:     stderr,
		logger:     slog.New(slog.NewTextHandler(stderr, nil)),
	}
}

// ParseFlags reads the serve flags.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("wmss serve", flag.ContinueOnError)
	fs.SetOutput(m.stderr)
	fs.StringVar(&m.ListenAddr, "addr", m.ListenAddr, "listen address HOST:PORT (env WMSS_ADDR)")
	fs.StringVar(&m.DataDir, "data-dir", m.DataDir, "directory for jobs, models and the database (env WMSS_DATA_DIR)")
	fs.StringVar(&m.Device, "device", m.Device, "where the engine puts models: auto (the GPU when there is one), cpu, cuda, cuda:N (env WMSS_DEVICE)")
	fs.StringVar(&m.TokenFile, "token-file", m.TokenFile, "file holding the bearer token for /v1 (env WMSS_TOKEN_FILE; or set WMSS_TOKEN)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if m.TokenFile != "" {
		b, err := os.ReadFile(m.TokenFile)
		if err != nil {
			fmt.Fprintln(m.stderr, "wmss serve: --token-file:", err)
			return err
		}
		m.Token = strings.TrimSpace(string(b))
		if m.Token == "" {
			fmt.Fprintln(m.stderr, "wmss serve: --token-file:", m.TokenFile, "is empty")
			return errors.New("empty token file")
		}
	}
	return nil
}

// Run starts the engine and serves until ctx ends, then shuts the server
// down, waiting at most 10 s for requests in flight.
func (m *Main) Run(ctx context.Context) error {
	if err := os.MkdirAll(m.DataDir, 0o755); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	m.DataDir = abs(m.DataDir)
	// The engine reads the device when it loads a model (api.default_device).
	os.Setenv("WMSS_DEVICE", m.Device)
	rt, ip, rtErr := startEngine(ctx)
	if rtErr != nil {
		m.logger.Error("engine unavailable", "err", rtErr)
	} else {
		m.logger.Info("engine ready", "python", rt.Python, "torch", rt.Torch, "device", rt.Device, "blas", rt.BLAS)
	}
	store, err := sqlite.Open(filepath.Join(m.DataDir, "wmss.db"))
	if err != nil {
		return err
	}
	defer store.Close()
	root, err := datastore.NewRoot(m.DataDir)
	if err != nil {
		return err
	}
	datasets, err := datastore.NewDatasets(root)
	if err != nil {
		return err
	}
	models, err := datastore.NewModels(root)
	if err != nil {
		return err
	}
	as := &api.Server{Runtime: rt, RuntimeErr: rtErr, Logger: m.logger, Token: m.Token,
		Store: store, Root: root, Datasets: datasets, Models: models, Sandbox: sandbox.Default()}
	// The job runner owns the engine; it stops after the HTTP server, and a
	// job it was running goes back to queued, to resume from its last
	// checkpoint when the server starts again.
	runnerCtx, stopRunner := context.WithCancel(context.Background())
	runnerDone := make(chan struct{})
	if ip != nil {
		benchDir := findBenchDir()
		if benchDir == "" {
			m.logger.Warn("benchmark data not found (set WMSS_BENCH_DATA or run beside ../shared/data): evaluation jobs will fail")
		}
		e := wireEngine(ip, store, m.DataDir, benchDir, nil, m.logger)
		as.Runner, as.Evaluator, as.ModelCreator = e.runner, e.evaluator, e.creator
		as.Reports = reports{report.Source{Store: store, DataDir: m.DataDir,
			Machine: fmt.Sprintf("%d CPU threads, device %s, torch %s, Python %s, %s", runtime.NumCPU(), rt.Device, rt.Torch, rt.Python, runtime.Version())}}
		go func() {
			defer close(runnerDone)
			if err := e.runner.Run(runnerCtx); err != nil && runnerCtx.Err() == nil {
				m.logger.Error("job runner stopped", "err", err)
			}
		}()
	} else {
		close(runnerDone)
	}
	defer func() {
		stopRunner()
		select {
		case <-runnerDone:
		case <-time.After(30 * time.Second):
			m.logger.Error("job runner did not stop within 30 s")
		}
	}()
	srv := &http.Server{
		Handler:           api.NewServer(as).Handler(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	ln, err := net.Listen("tcp", m.ListenAddr)
	if err != nil {
		return err
	}
	m.Addr <- ln.Addr()
	m.logger.Info("listening", "addr", ln.Addr().String(), "data_dir", m.DataDir)
	if m.Token == "" {
		m.logger.Warn("no bearer token set (WMSS_TOKEN or --token-file): /v1 is open to anyone who can reach " + ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	m.logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
