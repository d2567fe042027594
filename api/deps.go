package api

import (
	"context"
	"io"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/evaluators/sandbox"
	"github.com/wmss/wmss/internal/datastore"
)

// PathResolver confines client paths to the data root;
// *datastore.Root implements it.
type PathResolver interface {
	// Resolve returns the absolute, symlink-free path of an existing file
	// under the root, or an EINVALID/ENOTFOUND *wmss.Error naming field.
	Resolve(field, p string) (string, error)
	// Rel returns an absolute path under the root relative to it.
	Rel(abs string) string
	// Dir returns the root's absolute directory.
	Dir() string
}

// DatasetStore keeps uploaded datasets; *datastore.Datasets implements it.
type DatasetStore interface {
	// Create validates and stores a JSONL upload; a file with problems is
	// a *training.ValidationError and nothing is stored.
	Create(name string, r io.Reader) (*datastore.Dataset, error)
	Get(id string) (*datastore.Dataset, error)
	List() ([]*datastore.Dataset, error)
	Delete(id string) error
}

// ModelRegistry keeps registered and created models; *datastore.Models
// implements it.
type ModelRegistry interface {
	Register(name, path string) (*datastore.Model, error)
	Create(name, size string, seed uint64, write func(dir string) error) (*datastore.Model, error)
	Get(id string) (*datastore.Model, error)
	List() ([]*datastore.Model, error)
	Detail(id string) (*datastore.ModelDetail, error)
	// Dir returns the model's absolute directory.
	Dir(id string) (string, error)
	// File returns the absolute path of a file inside the model's directory.
	File(id, name string) (string, error)
}

// ModelCreator writes a seeded random-init model of a named size (one of
// training.InitSizes) in HF layout to dir, which must not exist yet. The
// engine's init_model (bridge/wmss_engine/api.py) implements it; errors
// with a wmss code keep it (EUNAVAILABLE when the engine is down).
type ModelCreator interface {
	CreateModel(ctx context.Context, dir, size string, seed uint64) error
}

// SandboxRunner runs one program; *sandbox.Sandbox implements it.
type SandboxRunner interface {
	Run(ctx context.Context, p sandbox.Program, lim sandbox.Limits) sandbox.Result
}

// Evaluator executes evaluation jobs (kind "eval", stored in the JobStore
// with an EvalSpec as their spec) and keeps their per-item results. The
// job's Summary holds the per-benchmark scores when it ends.
type Evaluator interface {
	wmss.Runner
	// Results returns up to limit per-item results of job id in order,
	// starting after the item with index after (-1: from the start), and
	// only of benchmark when it is not "". ENOTFOUND for an unknown job.
	Results(ctx context.Context, id wmss.JobID, benchmark string, after, limit int) ([]EvalItem, error)
}
