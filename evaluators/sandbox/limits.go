package sandbox

import (
	"fmt"
	"time"

	"github.com/wmss/wmss"
)

// Limits bounds one program run. A zero field takes the default given in
// its comment (safe, nsjail-style defaults); a negative one is an error.
// The rlimits apply to the freshly exec'd interpreter, so they are a budget
// over the program's own baseline, never over the server's (the LiveBench
// RLIMIT_AS trap, scoring case B24).
type Limits struct {
	// CPUTime is RLIMIT_CPU per process, rounded up to whole seconds, with
	// a floor of 1 s so that a loaded host cannot fail a correct program
	// (case B32). Default 5 s.
	CPUTime time.Duration
	// WallTime is the parent-enforced deadline from start to exit; when it
	// passes, the whole process tree is killed. Default 2×CPUTime.
	WallTime time.Duration
	// AddressSpace is RLIMIT_AS in bytes. Default 1 GiB.
	AddressSpace int64
	// Processes is RLIMIT_NPROC (processes and threads of the sandbox's
	// user). Default 32.
	Processes int
	// FileSize is RLIMIT_FSIZE in bytes, the largest file the program may
	// write. Default 16 MiB.
	FileSize int64
	// OpenFiles is RLIMIT_NOFILE. Default 256.
	OpenFiles int
	// Stack is RLIMIT_STACK in bytes. Default 8 MiB.
	Stack int64
	// TmpSize is the size in bytes of the private /tmp (a tmpfs, also used
	// for /dev/shm). Default 64 MiB.
	TmpSize int64
	// Output is how many bytes of stdout and of stderr are kept (each).
	// The rest is read and counted, never left in the pipe, and the
	// Result says it was truncated. Default 1 MiB.
	Output int
}

// Default limits; see the Limits fields.
const (
	DefaultCPUTime      = 5 * time.Second
	DefaultAddressSpace = 1 << 30
	DefaultProcesses    = 32
	DefaultFileSize     = 16 << 20
	DefaultOpenFiles    = 256
	DefaultStack        = 8 << 20
	DefaultTmpSize      = 64 << 20
	DefaultOutput       = 1 << 20

	// MinCPUTime is the floor applied to Limits.CPUTime (case B32).
	MinCPUTime = time.Second
)

// withDefaults validates l and fills its zero fields. The error is an
// EINVALID *wmss.Error naming the field.
func (l Limits) withDefaults() (Limits, error) {
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"cpu_time", int64(l.CPUTime)}, {"wall_time", int64(l.WallTime)},
		{"address_space", l.AddressSpace}, {"processes", int64(l.Processes)},
		{"file_size", l.FileSize}, {"open_files", int64(l.OpenFiles)},
		{"stack", l.Stack}, {"tmp_size", l.TmpSize}, {"output", int64(l.Output)},
	} {
		if f.v < 0 {
			return l, wmss.FieldErrorf("limits."+f.name, "must not be negative, got %d", f.v)
		}
	}
	if l.CPUTime == 0 {
		l.CPUTime = DefaultCPUTime
	}
	if l.CPUTime < MinCPUTime {
		l.CPUTime = MinCPUTime
	}
	// RLIMIT_CPU counts whole seconds.
	l.CPUTime = (l.CPUTime + time.Second - 1).Truncate(time.Second)
	if l.WallTime == 0 {
		l.WallTime = 2 * l.CPUTime
	}
	def := func(p *int64, d int64) {
		if *p == 0 {
			*p = d
		}
	}
	def(&l.AddressSpace, DefaultAddressSpace)
	def(&l.FileSize, DefaultFileSize)
	def(&l.Stack, DefaultStack)
	def(&l.TmpSize, DefaultTmpSize)
	if l.Processes == 0 {
		l.Processes = DefaultProcesses
	}
	if l.OpenFiles == 0 {
		l.OpenFiles = DefaultOpenFiles
	}
	if l.Output == 0 {
		l.Output = DefaultOutput
	}
	return l, nil
}

// clampRlimit returns want lowered to hard when it exceeds it, and a note
// saying so. An unprivileged process cannot raise a hard limit, and asking
// for more than it used to crash other evaluators (case B25); wmss runs
// the program under the lower limit and says so in Result.Notes.
func clampRlimit(name string, want, hard uint64) (uint64, string) {
	if want <= hard {
		return want, ""
	}
	return hard, fmt.Sprintf("%s: asked for %d, clamped to the hard limit %d", name, want, hard)
}
