package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/wmss/wmss"
)

// NewJobID returns a new job id: "job_", 12 hex digits of milliseconds
// since the epoch (so ids sort by creation), and 8 random hex digits.
func (db *DB) NewJobID() wmss.JobID {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return wmss.JobID(fmt.Sprintf("job_%012x%s", db.Now().UnixMilli(), hex.EncodeToString(b[:])))
}

// CreateJob stores j in state queued, filling ID and CreatedAt when empty.
// When j.IdempotencyKey names an existing job, nothing is written and that
// job is returned with created == false.
func (db *DB) CreateJob(ctx context.Context, j *wmss.Job) (job *wmss.Job, created bool, err error) {
	if j.IdempotencyKey != "" {
		if old, err := db.jobByKey(ctx, j.IdempotencyKey); err == nil {
			return old, false, nil
		} else if wmss.ErrorCode(err) != wmss.ENOTFOUND {
			return nil, false, err
		}
	}
	if j.ID == "" {
		j.ID = db.NewJobID()
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = db.Now().UTC()
	}
	if j.State == "" {
		j.State = wmss.StateQueued
	}
	if len(j.Spec) == 0 {
		j.Spec = json.RawMessage("{}")
	}
	_, err = db.db.ExecContext(ctx, `INSERT INTO jobs (id, kind, state, spec, idempotency_key, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`,
		string(j.ID), string(j.Kind), string(j.State), string(j.Spec), nullString(j.IdempotencyKey), micros(j.CreatedAt))
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return nil, false, &wmss.Error{Code: wmss.ECONFLICT, Field: "id", Message: fmt.Sprintf("job %s already exists", j.ID)}
		}
		return nil, false, err
	}
	got, err := db.GetJob(ctx, j.ID)
	return got, err == nil, err
}

const jobColumns = `id, kind, state, cancel_requested, spec, coalesce(idempotency_key, ''), error,
	progress, resume, summary, created_at, started_at, finished_at`

func scanJob(row interface{ Scan(...any) error }) (*wmss.Job, error) {
	var j wmss.Job
	var progress, resume, summary sql.NullString
	var spec string
	var created int64
	var started, finished sql.NullInt64
	if err := row.Scan(&j.ID, &j.Kind, &j.State, &j.CancelRequested, &spec, &j.IdempotencyKey, &j.Error,
		&progress, &resume, &summary, &created, &started, &finished); err != nil {
		return nil, err
	}
	j.Spec = json.RawMessage(spec)
	j.Progress = rawOrNil(progress)
	j.Resume = rawOrNil(resume)
	j.Summary = rawOrNil(summary)
	j.CreatedAt = fromMicros(created)
	j.StartedAt = fromNullMicros(started)
	j.FinishedAt = fromNullMicros(finished)
	return &j, nil
}

// GetJob returns the job with id, or an ENOTFOUND error.
func (db *DB) GetJob(ctx context.Context, id wmss.JobID) (*wmss.Job, error) {
	j, err := scanJob(db.db.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, string(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &wmss.Error{Code: wmss.ENOTFOUND, Field: "id", Message: fmt.Sprintf("no job %s", id)}
	}
	return j, err
}

func (db *DB) jobByKey(ctx context.Context, key string) (*wmss.Job, error) {
	j, err := scanJob(db.db.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE idempotency_key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &wmss.Error{Code: wmss.ENOTFOUND, Message: "no job with that idempotency key"}
	}
	return j, err
}

// ListJobs returns jobs newest first, matching f, and the cursor for the
// next page ("" on the last page). An unknown cursor is an EINVALID error.
func (db *DB) ListJobs(ctx context.Context, f wmss.JobFilter) ([]*wmss.Job, wmss.JobID, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	if limit > 500 {
		limit = 500
	}
	var where []string
	var args []any
	if f.State != "" {
		where = append(where, "state = ?")
		args = append(args, string(f.State))
	}
	if f.Kind != "" {
		where = append(where, "kind = ?")
		args = append(args, string(f.Kind))
	}
	if f.After != "" {
		var created int64
		err := db.db.QueryRowContext(ctx, `SELECT created_at FROM jobs WHERE id = ?`, string(f.After)).Scan(&created)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, "", wmss.FieldErrorf("cursor", "unknown cursor %q", f.After)
		} else if err != nil {
			return nil, "", err
		}
		where = append(where, "(created_at, id) < (?, ?)")
		args = append(args, created, string(f.After))
	}
	q := `SELECT ` + jobColumns + ` FROM jobs`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY created_at DESC, id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*wmss.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	var next wmss.JobID
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// SetJobState moves a job to state to, recording errMsg for failures and
// the start and finish times. A transition that CanTransition forbids is
// an ECONFLICT error naming both states; the job is left unchanged.
func (db *DB) SetJobState(ctx context.Context, id wmss.JobID, to wmss.JobState, errMsg string) (*wmss.Job, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var from wmss.JobState
	err = tx.QueryRowContext(ctx, `SELECT state FROM jobs WHERE id = ?`, string(id)).Scan(&from)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &wmss.Error{Code: wmss.ENOTFOUND, Field: "id", Message: fmt.Sprintf("no job %s", id)}
	} else if err != nil {
		return nil, err
	}
	if !wmss.CanTransition(from, to) {
		return nil, &wmss.Error{Code: wmss.ECONFLICT, Field: "state", Message: fmt.Sprintf("job %s cannot go from %s to %s", id, from, to)}
	}
	now := micros(db.Now())
	switch {
	case to == wmss.StateRunning:
		_, err = tx.ExecContext(ctx, `UPDATE jobs SET state = ?, started_at = coalesce(started_at, ?) WHERE id = ?`, string(to), now, string(id))
	case to.Terminal():
		_, err = tx.ExecContext(ctx, `UPDATE jobs SET state = ?, error = ?, finished_at = ? WHERE id = ?`, string(to), errMsg, now, string(id))
	default:
		_, err = tx.ExecContext(ctx, `UPDATE jobs SET state = ? WHERE id = ?`, string(to), string(id))
	}
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return db.GetJob(ctx, id)
}

// RequestCancel marks a job for cancellation. A queued job is cancelled at
// once; a running one keeps running until its runner sees the mark. A job
// that already ended is an ECONFLICT error.
func (db *DB) RequestCancel(ctx context.Context, id wmss.JobID) (*wmss.Job, error) {
	j, err := db.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	if j.State.Terminal() {
		return nil, &wmss.Error{Code: wmss.ECONFLICT, Field: "state", Message: fmt.Sprintf("job %s already %s", id, j.State)}
	}
	if _, err := db.db.ExecContext(ctx, `UPDATE jobs SET cancel_requested = 1 WHERE id = ?`, string(id)); err != nil {
		return nil, err
	}
	if j.State == wmss.StateQueued {
		return db.SetJobState(ctx, id, wmss.StateCancelled, "cancelled before it started")
	}
	return db.GetJob(ctx, id)
}

// SetProgress records a job's progress (shown to clients) and its resume
// state (read back after a restart) in one write.
func (db *DB) SetProgress(ctx context.Context, id wmss.JobID, progress, resume json.RawMessage) error {
	return db.update(ctx, id, `UPDATE jobs SET progress = ?, resume = coalesce(?, resume) WHERE id = ?`,
		nullRaw(progress), nullRaw(resume), string(id))
}

// SetSummary records the summary written when a job ends.
func (db *DB) SetSummary(ctx context.Context, id wmss.JobID, summary json.RawMessage) error {
	return db.update(ctx, id, `UPDATE jobs SET summary = ? WHERE id = ?`, nullRaw(summary), string(id))
}

func (db *DB) update(ctx context.Context, id wmss.JobID, q string, args ...any) error {
	res, err := db.db.ExecContext(ctx, q, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &wmss.Error{Code: wmss.ENOTFOUND, Field: "id", Message: fmt.Sprintf("no job %s", id)}
	}
	return nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullRaw(r json.RawMessage) any {
	if len(r) == 0 {
		return nil
	}
	return string(r)
}

func rawOrNil(s sql.NullString) json.RawMessage {
	if !s.Valid {
		return nil
	}
	return json.RawMessage(s.String)
}
