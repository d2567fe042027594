// Package bridge runs the wmss engine (PyTorch, in Python) inside the Go
// process through our own thin cgo layer over the stable CPython C API.
//
// One interpreter per process: it is initialised once, by the goroutine that
// owns it (see owner.go), and never finalised. Every other goroutine reaches
// Python through Interpreter.Call, which queues the call to that owner and
// waits for its JSON reply or for its context to end.
//
// Building needs libpython3.11-dev and pkg-config (the python3-embed pkg-config
// module); running needs python3-torch and python3-numpy from Debian. Build
// with -tags nopython to get a stub whose Start reports what is missing.
package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// DefaultExecutable is the interpreter the embedded CPython identifies as
// (sys.executable). It must be the system interpreter whose packages hold
// torch, not whatever python3 comes first on PATH.
const DefaultExecutable = "/usr/bin/python3.11"

// EngineModule is the module whose __all__ lists the operations that Call
// reaches by bare name.
const EngineModule = "wmss_engine.api"

// RequiredPackages names the Debian packages the bridge needs at run time,
// quoted in the error Start returns when one is missing.
const RequiredPackages = "python3-torch python3-numpy libpython3.11-dev"

// Options configures Start.
type Options struct {
	// Executable becomes sys.executable and program_name; default
	// $WMSS_PYTHON, else DefaultExecutable. Its version must match the
	// libpython the binary was linked with.
	Executable string
	// EngineDir is put first on sys.path; it must contain the wmss_engine
	// package. Default: EngineDirFromEnv().
	EngineDir string
	// Preload lists modules imported on the owner thread right after
	// initialisation (default: torch, then wmss_engine.api when it exists).
	// Importing torch there, once, is what keeps its thread state alive.
	Preload []string
	// QueueSize bounds the number of calls waiting for the owner; default 1024.
	QueueSize int
}

// EngineDirFromEnv returns the directory holding the wmss_engine package:
// $WMSS_ENGINE_DIR if set, else the bridge directory of this source tree
// (found from this file's path at build time), else "bridge" beside the
// executable's parent directory.
func EngineDirFromEnv() string {
	if d := os.Getenv("WMSS_ENGINE_DIR"); d != "" {
		return d
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		dir := filepath.Dir(file)
		if _, err := os.Stat(filepath.Join(dir, "wmss_engine", "__init__.py")); err == nil {
			return dir
		}
	}
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Join(filepath.Dir(filepath.Dir(exe)), "bridge")
		if _, err := os.Stat(filepath.Join(dir, "wmss_engine", "__init__.py")); err == nil {
			return dir
		}
	}
	return "bridge"
}

// CallInto calls function through ip and decodes the JSON result into a
// value of type T.
func CallInto[T any](ctx context.Context, ip *Interpreter, function string, args any) (T, error) {
	var out T
	raw, err := ip.Call(ctx, function, args)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, fmt.Errorf("bridge: %s: decode result: %w", function, err)
	}
	return out, nil
}
