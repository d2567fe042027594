package sqlite_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/internal/sqlite"
)

// mustOpen opens a fresh database whose clock advances 1 ms per reading.
func mustOpen(t *testing.T) (*sqlite.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wmss.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { clock = clock.Add(time.Millisecond); return clock }
	return db, path
}

func TestOpen_Migrates(t *testing.T) {
	db, path := mustOpen(t)
	ctx := context.Background()
	v, err := db.SchemaVersion(ctx)
	if err != nil || v != 1 {
		t.Fatalf("schema version = %d, %v; want 1", v, err)
	}
	j, _, err := db.CreateJob(ctx, &wmss.Job{Kind: wmss.KindWMSS, Spec: json.RawMessage(`{"seed":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	// Reopening applies nothing twice and loses nothing.
	db2, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	got, err := db2.GetJob(ctx, j.ID)
	if err != nil || string(got.Spec) != `{"seed":1}` || got.State != wmss.StateQueued {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
}

func TestJobs_CreateGetIdempotency(t *testing.T) {
	db, _ := mustOpen(t)
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		j, created, err := db.CreateJob(ctx, &wmss.Job{Kind: wmss.KindSFTBaseline})
		if err != nil || !created {
			t.Fatalf("CreateJob = %v, %v", created, err)
		}
		if j.State != wmss.StateQueued || j.Kind != wmss.KindSFTBaseline || len(j.ID) != len("job_")+12+8 {
			t.Errorf("job = %+v", j)
		}
	})
	t.Run("IdempotencyKey", func(t *testing.T) {
		a, created, err := db.CreateJob(ctx, &wmss.Job{Kind: wmss.KindWMSS, IdempotencyKey: "k1"})
		if err != nil || !created {
			t.Fatal(err)
		}
		b, created, err := db.CreateJob(ctx, &wmss.Job{Kind: wmss.KindWMSS, IdempotencyKey: "k1"})
		if err != nil || created || b.ID != a.ID {
			t.Errorf("second create with the same key = %s (created %v), want %s", b.ID, created, a.ID)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if _, err := db.GetJob(ctx, "job_nope"); wmss.ErrorCode(err) != wmss.ENOTFOUND {
			t.Errorf("err = %v, want not_found", err)
		}
	})
	t.Run("ErrDuplicateID", func(t *testing.T) {
		if _, _, err := db.CreateJob(ctx, &wmss.Job{ID: "job_x", Kind: wmss.KindWMSS}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.CreateJob(ctx, &wmss.Job{ID: "job_x", Kind: wmss.KindWMSS}); wmss.ErrorCode(err) != wmss.ECONFLICT {
			t.Errorf("err = %v, want conflict", err)
		}
	})
}

func TestJobs_ListPagination(t *testing.T) {
	db, _ := mustOpen(t)
	ctx := context.Background()
	var ids []wmss.JobID
	for i := 0; i < 7; i++ {
		j, _, err := db.CreateJob(ctx, &wmss.Job{Kind: wmss.KindWMSS})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	if _, err := db.SetJobState(ctx, ids[2], wmss.StateRunning, ""); err != nil {
		t.Fatal(err)
	}
	var got []wmss.JobID
	var cursor wmss.JobID
	pages := 0
	for {
		page, next, err := db.ListJobs(ctx, wmss.JobFilter{Limit: 3, After: cursor})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, j := range page {
			got = append(got, j.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if pages != 3 || len(got) != 7 {
		t.Fatalf("%d pages, %d jobs; want 3 pages, 7 jobs", pages, len(got))
	}
	for i := range got { // newest first
		if got[i] != ids[len(ids)-1-i] {
			t.Errorf("position %d = %s, want %s", i, got[i], ids[len(ids)-1-i])
		}
	}
	running, _, err := db.ListJobs(ctx, wmss.JobFilter{State: wmss.StateRunning})
	if err != nil || len(running) != 1 || running[0].ID != ids[2] {
		t.Errorf("state filter: %v, %v", running, err)
	}
	if _, _, err := db.ListJobs(ctx, wmss.JobFilter{After: "job_unknown"}); wmss.ErrorCode(err) != wmss.EINVALID {
		t.Errorf("unknown cursor: err = %v", err)
	}
}

func TestJobs_StateAndCancel(t *testing.T) {
	db, _ := mustOpen(t)
	ctx := context.Background()
	j, _, _ := db.CreateJob(ctx, &wmss.Job{Kind: wmss.KindWMSS})
	if _, err := db.SetJobState(ctx, j.ID, wmss.StateSucceeded, ""); wmss.ErrorCode(err) != wmss.ECONFLICT {
		t.Errorf("queued → succeeded: err = %v, want conflict", err)
	}
	r, err := db.SetJobState(ctx, j.ID, wmss.StateRunning, "")
	if err != nil || r.StartedAt == nil {
		t.Fatalf("→ running: %+v, %v", r, err)
	}
	c, err := db.RequestCancel(ctx, j.ID)
	if err != nil || !c.CancelRequested || c.State != wmss.StateRunning {
		t.Fatalf("cancel running: %+v, %v", c, err)
	}
	f, err := db.SetJobState(ctx, j.ID, wmss.StateCancelled, "cancelled at step 3")
	if err != nil || f.FinishedAt == nil || f.Error != "cancelled at step 3" {
		t.Fatalf("→ cancelled: %+v, %v", f, err)
	}
	if _, err := db.RequestCancel(ctx, j.ID); wmss.ErrorCode(err) != wmss.ECONFLICT {
		t.Errorf("cancel of a cancelled job: err = %v", err)
	}
	q, _, _ := db.CreateJob(ctx, &wmss.Job{Kind: wmss.KindWMSS})
	qc, err := db.RequestCancel(ctx, q.ID)
	if err != nil || qc.State != wmss.StateCancelled {
		t.Errorf("cancel queued: %+v, %v", qc, err)
	}
}

func TestEventsMetricsArtifacts(t *testing.T) {
	db, _ := mustOpen(t)
	ctx := context.Background()
	j, _, _ := db.CreateJob(ctx, &wmss.Job{Kind: wmss.KindWMSS})
	for i := 0; i < 5; i++ {
		ev, err := db.AppendEvent(ctx, j.ID, "step", map[string]int{"step": i})
		if err != nil || ev.Seq != int64(i+1) {
			t.Fatalf("event %d: seq %d, %v", i, ev.Seq, err)
		}
	}
	evs, err := db.ListEvents(ctx, j.ID, 2, 2)
	if err != nil || len(evs) != 2 || evs[0].Seq != 3 || string(evs[1].Data) != `{"step":3}` {
		t.Fatalf("ListEvents after 2: %+v, %v", evs, err)
	}
	if err := db.AddMetrics(ctx,
		wmss.Metric{JobID: j.ID, Phase: "sft", Step: 1, Values: map[string]float64{"loss": 2.5, "lr": 1e-5}},
		wmss.Metric{JobID: j.ID, Phase: "sft", Step: 2, Values: map[string]float64{"loss": 2.25}},
		wmss.Metric{JobID: j.ID, Phase: "sft", Step: 2, Values: map[string]float64{"loss": 2.0}}, // re-run after resume
	); err != nil {
		t.Fatal(err)
	}
	ms, err := db.ListMetrics(ctx, j.ID, "sft")
	if err != nil || len(ms) != 2 || ms[0].Values["lr"] != 1e-5 || ms[1].Values["loss"] != 2.0 {
		t.Fatalf("metrics = %+v, %v", ms, err)
	}
	if err := db.PutArtifact(ctx, wmss.Artifact{JobID: j.ID, Name: "curriculum.jsonl", Path: "jobs/x/curriculum.jsonl", Bytes: 10, SHA256: "ab"}); err != nil {
		t.Fatal(err)
	}
	as, err := db.ListArtifacts(ctx, j.ID)
	if err != nil || len(as) != 1 || as[0].Path != "jobs/x/curriculum.jsonl" {
		t.Fatalf("artifacts = %+v, %v", as, err)
	}
	if err := db.SetProgress(ctx, j.ID, json.RawMessage(`{"step":2}`), nil); err != nil {
		t.Fatal(err)
	}
	if err := db.SetProgress(ctx, "job_missing", json.RawMessage(`{}`), nil); wmss.ErrorCode(err) != wmss.ENOTFOUND {
		t.Errorf("progress of a missing job: %v", err)
	}
}
