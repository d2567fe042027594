// Package sqlite stores jobs, their events, metrics and artifacts in a
// SQLite file (modernc.org/sqlite, pure Go). It is the default store of the
// wmss server: a file under the data directory, opened in WAL mode, with
// schema migrations applied in order at Open.
package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DB is an open wmss database. It is safe for concurrent use.
type DB struct {
	db *sql.DB
	// Now returns the current time; tests replace it.
	Now func() time.Time
}

// migrations are applied in order, each once, each in its own transaction.
// Append only: never edit or reorder an entry that has shipped.
var migrations = []string{
	// 1: jobs, events, metrics, artifacts.
	`CREATE TABLE jobs (
		id               TEXT PRIMARY KEY,
		kind             TEXT NOT NULL,
		state            TEXT NOT NULL,
		cancel_requested INTEGER NOT NULL DEFAULT 0,
		spec             TEXT NOT NULL,
		idempotency_key  TEXT UNIQUE,
		error            TEXT NOT NULL DEFAULT '',
		progress         TEXT,
		resume           TEXT,
		summary          TEXT,
		created_at       INTEGER NOT NULL,
		started_at       INTEGER,
		finished_at      INTEGER
	);
	CREATE INDEX jobs_created ON jobs (created_at DESC, id DESC);
	CREATE INDEX jobs_state ON jobs (state);
	CREATE TABLE events (
		job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
		seq    INTEGER NOT NULL,
		time   INTEGER NOT NULL,
		type   TEXT NOT NULL,
		data   TEXT,
		PRIMARY KEY (job_id, seq)
	);
	CREATE TABLE metrics (
		job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
		phase  TEXT NOT NULL,
		step   INTEGER NOT NULL,
		time   INTEGER NOT NULL,
		data   TEXT NOT NULL,
		PRIMARY KEY (job_id, phase, step)
	);
	CREATE TABLE artifacts (
		job_id     TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
		name       TEXT NOT NULL,
		path       TEXT NOT NULL,
		bytes      INTEGER NOT NULL,
		sha256     TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		PRIMARY KEY (job_id, name)
	);`,
}

// Open opens (creating if needed) the database at path and brings its
// schema up to date. A database written by a newer wmss (more migrations
// than this binary knows) is refused rather than misread.
func Open(path string) (*DB, error) {
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)"
	sdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// One writer at a time is what SQLite does anyway; a single connection
	// also makes every transaction see the previous one's writes.
	sdb.SetMaxOpenConns(1)
	db := &DB{db: sdb, Now: time.Now}
	if err := db.migrate(context.Background()); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error { return db.db.Close() }

// SchemaVersion returns the number of migrations applied.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v)
	return v, err
}

func (db *DB) migrate(ctx context.Context) error {
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this wmss knows (%d)", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		tx, err := db.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		// PRAGMA does not take bind parameters; i+1 is an int we control.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return nil
}

// micros converts a time to the stored form: microseconds since the Unix epoch, UTC.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}
