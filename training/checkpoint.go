package training

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wmss/wmss"
)

// ResumeVersion is the version of ResumeState this package writes; a job
// whose stored state has another version is not resumed (it fails with a
// clear error instead of running on misread state).
const ResumeVersion = 1

// ResumeState is the Go half of a checkpoint, stored as the job's resume
// JSON (wmss.Job.Resume) whenever a checkpoint is written or a phase ends.
// The engine half (weights, optimizer, RNG) is the directory Checkpoint
// names. Everything else a resumed job needs is recomputed from the spec:
// the data (read and tokenized again), the plans and schedules (pure
// functions of the spec and Position).
type ResumeState struct {
	Version int `json:"version"`
	// Stage is the index of the phase in progress in the job's phase list
	// (pipeline order: pretrain, sft, then select and joint per round).
	Stage int `json:"stage"`
	// Position is where that phase stood when Checkpoint was written; the
	// scheduler position is Position.Step (optimizer steps taken, T04).
	Position Position `json:"position"`
	// Checkpoint is the engine checkpoint of Position, relative to the job
	// directory; "" when the phase has not written one (it starts over).
	Checkpoint string `json:"checkpoint,omitempty"`
	// EngineSteps is the engine's own optimizer-step count at Checkpoint
	// (steps that ran, skipped ones excluded), checked on load.
	EngineSteps int `json:"engine_steps"`
	// Seq numbers the checkpoints of the job (directory names sort by it).
	Seq int `json:"seq"`
	// Selections holds phase 2's drawn indices, one per finished round.
	Selections []RoundSelection `json:"selections,omitempty"`
	// Summary is the job summary as of Checkpoint.
	Summary Summary `json:"summary"`
}

// RoundSelection is the result of phase 2 of one round that phase 3 needs.
type RoundSelection struct {
	Round   int   `json:"round"`
	Indices []int `json:"indices"` // dataset positions, in draw order
}

// decodeResume reads a job's resume JSON; empty means a fresh start.
func decodeResume(raw json.RawMessage) (*ResumeState, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var st ResumeState
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, wmss.Errorf(wmss.EINTERNAL, "resume state: %v", err)
	}
	if st.Version != ResumeVersion {
		return nil, wmss.Errorf(wmss.ECONFLICT, "resume state has version %d, this wmss reads %d", st.Version, ResumeVersion)
	}
	return &st, nil
}

// checkpointDirName names checkpoint seq of phase at step; names sort by seq.
func checkpointDirName(seq int, phase string, step int) string {
	return fmt.Sprintf("ckpt-%06d-%s-step%06d", seq, phase, step)
}

// pruneCheckpoints deletes all but the keep newest checkpoint directories
// under dir (by sequence number in the name), and any unfinished ".tmp"
// directory. The directory named current is never deleted.
func pruneCheckpoints(dir string, keep int, current string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	var done []string
	for _, e := range entries {
		name := e.Name()
		switch {
		case !e.IsDir() || !strings.HasPrefix(name, "ckpt-"):
		case strings.HasSuffix(name, ".tmp"):
			if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
				return err
			}
		default:
			done = append(done, name)
		}
	}
	slices.Sort(done)
	for len(done) > keep {
		if done[0] != current {
			if err := os.RemoveAll(filepath.Join(dir, done[0])); err != nil {
				return err
			}
		}
		done = done[1:]
	}
	return nil
}

// replaceDir moves the finished directory tmp to dst atomically (rename),
// removing an older dst first.
func replaceDir(tmp, dst string) error {
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dst))
}

// syncDir flushes a directory entry change to disk (best effort).
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	_ = f.Sync()
	return nil
}

// writeFileAtomic writes data to path through a temporary file and rename.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
