package sqlite

import (
	"context"
	"encoding/json"

	"github.com/wmss/wmss"
)

// AppendEvent adds an event to a job's log with the next sequence number
// and returns it. data may be nil.
func (db *DB) AppendEvent(ctx context.Context, id wmss.JobID, typ string, data any) (wmss.Event, error) {
	ev := wmss.Event{JobID: id, Type: typ, Time: db.Now().UTC()}
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return ev, err
		}
		ev.Data = b
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return ev, err
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) + 1 FROM events WHERE job_id = ?`, string(id)).Scan(&ev.Seq); err != nil {
		return ev, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO events (job_id, seq, time, type, data) VALUES (?, ?, ?, ?, ?)`,
		string(id), ev.Seq, micros(ev.Time), typ, nullRaw(ev.Data)); err != nil {
		return ev, err
	}
	return ev, tx.Commit()
}

// ListEvents returns up to limit events of a job with seq > afterSeq, in order.
func (db *DB) ListEvents(ctx context.Context, id wmss.JobID, afterSeq int64, limit int) ([]wmss.Event, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := db.db.QueryContext(ctx, `SELECT seq, time, type, data FROM events
		WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?`, string(id), afterSeq, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []wmss.Event
	for rows.Next() {
		ev := wmss.Event{JobID: id}
		var t int64
		var data *string
		if err := rows.Scan(&ev.Seq, &t, &ev.Type, &data); err != nil {
			return nil, err
		}
		ev.Time = fromMicros(t)
		if data != nil {
			ev.Data = json.RawMessage(*data)
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

// AddMetrics stores per-step metrics; a repeated (job, phase, step) replaces
// the earlier row, so a step re-run after a resume is recorded once.
func (db *DB) AddMetrics(ctx context.Context, ms ...wmss.Metric) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, m := range ms {
		b, err := json.Marshal(m.Values)
		if err != nil {
			return err
		}
		t := m.Time
		if t.IsZero() {
			t = db.Now()
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO metrics (job_id, phase, step, time, data) VALUES (?, ?, ?, ?, ?)`,
			string(m.JobID), m.Phase, m.Step, micros(t), string(b)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// ListMetrics returns a job's metrics ordered by time then step; phase ""
// means every phase.
func (db *DB) ListMetrics(ctx context.Context, id wmss.JobID, phase string) ([]wmss.Metric, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT phase, step, time, data FROM metrics
		WHERE job_id = ? AND (? = '' OR phase = ?) ORDER BY time, step`, string(id), phase, phase)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []wmss.Metric
	for rows.Next() {
		m := wmss.Metric{JobID: id}
		var t int64
		var data string
		if err := rows.Scan(&m.Phase, &m.Step, &t, &data); err != nil {
			return nil, err
		}
		m.Time = fromMicros(t)
		if err := json.Unmarshal([]byte(data), &m.Values); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// PutArtifact records (or replaces) a job's artifact.
func (db *DB) PutArtifact(ctx context.Context, a wmss.Artifact) error {
	if a.CreatedAt.IsZero() {
		a.CreatedAt = db.Now()
	}
	_, err := db.db.ExecContext(ctx, `INSERT OR REPLACE INTO artifacts (job_id, name, path, bytes, sha256, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, string(a.JobID), a.Name, a.Path, a.Bytes, a.SHA256, micros(a.CreatedAt))
	return err
}

// ListArtifacts returns a job's artifacts by name.
func (db *DB) ListArtifacts(ctx context.Context, id wmss.JobID) ([]wmss.Artifact, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT name, path, bytes, sha256, created_at FROM artifacts
		WHERE job_id = ? ORDER BY name`, string(id))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []wmss.Artifact
	for rows.Next() {
		a := wmss.Artifact{JobID: id}
		var t int64
		if err := rows.Scan(&a.Name, &a.Path, &a.Bytes, &a.SHA256, &t); err != nil {
			return nil, err
		}
		a.CreatedAt = fromMicros(t)
		out = append(out, a)
	}
	return out, rows.Err()
}
