package api

import (
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wmss/wmss"
)

// MetricList is the body of GET /v1/jobs/{id}/metrics.
type MetricList struct {
	Metrics []wmss.Metric `json:"metrics"`
}

// ArtifactList is the body of the artifact and checkpoint listings.
type ArtifactList struct {
	Artifacts []wmss.Artifact `json:"artifacts"`
}

// listMetrics returns a job's per-step metrics (loss in nats/token, lr, λ,
// grad_norm, tokens_per_s, logit statistics) ordered by time and step.
//
//	GET /v1/jobs/:id/metrics
//
//	@Summary	List a job's metrics
//	@ID			listJobMetrics
//	@Tags		jobs
//	@Produce	json
//	@Param		id		path		string	true	"job id"
//	@Param		phase	query		string	false	"only this phase (pretrain, sft, joint, eval)"
//	@Success	200		{object}	MetricList
//	@Failure	401,404,503	{object}	Problem
//	@Router		/v1/jobs/{id}/metrics [get]
//	@Security	BearerAuth
func (s *Server) listMetrics(c *gin.Context) {
	j, ok := s.job(c, "")
	if !ok {
		return
	}
	ms, err := s.Store.ListMetrics(c.Request.Context(), j.ID, c.Query("phase"))
	if err != nil {
		s.fail(c, err)
		return
	}
	if ms == nil {
		ms = []wmss.Metric{}
	}
	c.JSON(http.StatusOK, MetricList{Metrics: ms})
}

// listArtifacts lists the files a job produced (curriculum weights, report,
// checkpoints, the final model).
//
//	GET /v1/jobs/:id/artifacts
//
//	@Summary	List a job's artifacts
//	@ID			listJobArtifacts
//	@Tags		jobs
//	@Produce	json
//	@Param		id	path		string	true	"job id"
//	@Success	200	{object}	ArtifactList
//	@Failure	401,404,503	{object}	Problem
//	@Router		/v1/jobs/{id}/artifacts [get]
//	@Security	BearerAuth
func (s *Server) listArtifacts(c *gin.Context) {
	j, ok := s.job(c, "")
	if !ok {
		return
	}
	all, err := s.Store.ListArtifacts(c.Request.Context(), j.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	if all == nil {
		all = []wmss.Artifact{}
	}
	c.JSON(http.StatusOK, ArtifactList{Artifacts: all})
}

// Checkpoint is one checkpoint a training job keeps on disk (the newest
// checkpoint.keep_last of them): engine weights, optimizer and RNG state,
// plus the Go resume state (state.json).
type Checkpoint struct {
	Name      string    `json:"name"`  // e.g. "ckpt-000003-sft-step000100"
	Path      string    `json:"path"`  // directory relative to the data root
	Phase     string    `json:"phase"` // training phase: pretrain, sft, joint, …
	Step      int       `json:"step"`  // optimizer steps of that phase taken
	Bytes     int64     `json:"bytes"` // size of its files
	CreatedAt time.Time `json:"created_at"`
}

// CheckpointList is the body of GET /v1/jobs/{id}/checkpoints.
type CheckpointList struct {
	Checkpoints []Checkpoint `json:"checkpoints"`
}

// checkpointName is the shape of the checkpoint directories the training
// pipeline writes (training.checkpointDirName): sequence, phase, step.
var checkpointName = regexp.MustCompile(`^ckpt-(\d+)-(.+)-step(\d+)$`)

// listCheckpoints lists the checkpoints a training job keeps on disk, oldest
// first; the newest is the one a restarted job resumes from.
//
//	GET /v1/jobs/:id/checkpoints
//
//	@Summary	List a job's checkpoints
//	@ID			listJobCheckpoints
//	@Tags		jobs
//	@Produce	json
//	@Param		id	path		string	true	"job id"
//	@Success	200	{object}	CheckpointList
//	@Failure	401,404,503	{object}	Problem
//	@Router		/v1/jobs/{id}/checkpoints [get]
//	@Security	BearerAuth
func (s *Server) listCheckpoints(c *gin.Context) {
	j, ok := s.job(c, "")
	if !ok {
		return
	}
	if s.Root == nil {
		s.unavailable(c, "the data directory")
		return
	}
	dir := filepath.Join(s.Root.Dir(), "jobs", string(j.ID), "checkpoints")
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		s.fail(c, err)
		return
	}
	out := CheckpointList{Checkpoints: []Checkpoint{}}
	for _, e := range entries {
		m := checkpointName.FindStringSubmatch(e.Name())
		if !e.IsDir() || m == nil {
			continue // unfinished ".tmp" directories included
		}
		cp := Checkpoint{Name: e.Name(), Path: s.Root.Rel(filepath.Join(dir, e.Name())), Phase: m[2]}
		cp.Step, _ = strconv.Atoi(m[3])
		if info, err := e.Info(); err == nil {
			cp.CreatedAt = info.ModTime().UTC()
		}
		_ = filepath.WalkDir(filepath.Join(dir, e.Name()), func(_ string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if info, err := d.Info(); err == nil {
					cp.Bytes += info.Size()
				}
			}
			return nil
		})
		out.Checkpoints = append(out.Checkpoints, cp)
	}
	c.JSON(http.StatusOK, out)
}

// getArtifact downloads one artifact file. Its stored path is resolved
// inside the data root like a client path; a directory (a checkpoint) is
// 409: download the files of the model it holds instead.
//
//	GET /v1/jobs/:id/artifacts/*name
//
//	@Summary	Download a job artifact
//	@ID			getJobArtifact
//	@Tags		jobs
//	@Produce	octet-stream
//	@Param		id		path	string	true	"job id"
//	@Param		name	path	string	true	"artifact name, e.g. curriculum_weights.jsonl"
//	@Success	200		{file}	file
//	@Failure	401,404,409,422,503	{object}	Problem
//	@Router		/v1/jobs/{id}/artifacts/{name} [get]
//	@Security	BearerAuth
func (s *Server) getArtifact(c *gin.Context) {
	j, ok := s.job(c, "")
	if !ok {
		return
	}
	if s.Root == nil {
		s.unavailable(c, "the data root")
		return
	}
	name := strings.TrimPrefix(c.Param("name"), "/")
	all, err := s.Store.ListArtifacts(c.Request.Context(), j.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	for _, a := range all {
		if a.Name != name {
			continue
		}
		p, err := s.Root.Resolve("path", a.Path)
		if err != nil {
			s.fail(c, err)
			return
		}
		info, err := os.Stat(p)
		if err != nil {
			s.fail(c, err)
			return
		}
		if info.IsDir() {
			s.fail(c, &wmss.Error{Code: wmss.ECONFLICT, Field: "name", Message: "artifact " + name + " is a directory"})
			return
		}
		c.FileAttachment(p, path.Base(name))
		return
	}
	s.fail(c, &wmss.Error{Code: wmss.ENOTFOUND, Field: "name", Message: "job " + string(j.ID) + " has no artifact " + name})
}
