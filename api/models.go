package api

import (
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/internal/datastore"
	"github.com/wmss/wmss/training"
)

// ModelList is the body of GET /v1/models.
type ModelList struct {
	Models []*datastore.Model `json:"models"`
}

// RegisterModelRequest registers an HF-layout directory that is already
// under the data root.
type RegisterModelRequest struct {
	Name string `json:"name" example:"qwen3-tiny"`         // required label
	Path string `json:"path" example:"imports/qwen3-tiny"` // relative to the data root, or absolute inside it
}

// CreateModelRequest asks the engine for a seeded random-init model.
type CreateModelRequest struct {
	Name string `json:"name" example:"tiny-seed0"` // required label
	Size string `json:"size" example:"tiny"`       // one of training.InitSizes: "tiny" (≈1.2M parameters) or "small" (≈12.6M)
	Seed uint64 `json:"seed" example:"0"`          // weight init seed
}

// listModels lists the registered and created models, newest first.
//
//	GET /v1/models
//
//	@Summary	List models
//	@ID			listModels
//	@Tags		models
//	@Produce	json
//	@Success	200	{object}	ModelList
//	@Failure	401,503	{object}	Problem
//	@Router		/v1/models [get]
//	@Security	BearerAuth
func (s *Server) listModels(c *gin.Context) {
	if s.Models == nil {
		s.unavailable(c, "models")
		return
	}
	list, err := s.Models.List()
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, ModelList{Models: list})
}

// registerModel adds a local HF directory under the data root to the
// registry. The path may not contain "..", lie outside the data root or
// lead out of it through a symlink; it must hold a config.json.
//
//	POST /v1/models
//
//	@Summary	Register a local HF model directory
//	@ID			registerModel
//	@Tags		models
//	@Accept		json
//	@Produce	json
//	@Param		body	body		RegisterModelRequest	true	"name and path"
//	@Success	201		{object}	datastore.Model
//	@Failure	400,401,404,413,422,503	{object}	Problem
//	@Router		/v1/models [post]
//	@Security	BearerAuth
func (s *Server) registerModel(c *gin.Context) {
	if s.Models == nil {
		s.unavailable(c, "models")
		return
	}
	var req RegisterModelRequest
	if !bindJSON(c, &req, DefaultMaxBody) {
		return
	}
	m, err := s.Models.Register(req.Name, req.Path)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, m)
}

// createModel has the engine write a seeded random-init model and
// registers it.
//
//	POST /v1/models/init
//
//	@Summary	Create a small random-init model
//	@ID			createModel
//	@Tags		models
//	@Accept		json
//	@Produce	json
//	@Param		body	body		CreateModelRequest	true	"name, size and seed"
//	@Success	201		{object}	datastore.Model
//	@Failure	400,401,413,422,503	{object}	Problem
//	@Router		/v1/models/init [post]
//	@Security	BearerAuth
func (s *Server) createModel(c *gin.Context) {
	if s.Models == nil || s.ModelCreator == nil {
		s.unavailable(c, "the engine (model creation)")
		return
	}
	var req CreateModelRequest
	if !bindJSON(c, &req, DefaultMaxBody) {
		return
	}
	if req.Size == "" {
		req.Size = "tiny"
	}
	if !slices.Contains(training.InitSizes, req.Size) {
		s.fail(c, wmss.FieldErrorf("size", "unknown size %q (want %s)", req.Size, strings.Join(training.InitSizes, " or ")))
		return
	}
	ctx := c.Request.Context()
	m, err := s.Models.Create(req.Name, req.Size, req.Seed, func(dir string) error {
		return s.ModelCreator.CreateModel(ctx, dir, req.Size, req.Seed)
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, m)
}

// getModel returns a model with its config.json, parameter count and files.
//
//	GET /v1/models/:id
//
//	@Summary	Get a model's config and parameter count
//	@ID			getModel
//	@Tags		models
//	@Produce	json
//	@Param		id	path		string	true	"model id, e.g. mdl_0190a3b4c5d6e1f2a3b4"
//	@Success	200	{object}	datastore.ModelDetail
//	@Failure	401,404,422,503	{object}	Problem
//	@Router		/v1/models/{id} [get]
//	@Security	BearerAuth
func (s *Server) getModel(c *gin.Context) {
	if s.Models == nil {
		s.unavailable(c, "models")
		return
	}
	d, err := s.Models.Detail(c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

// getModelFile downloads one file of a model directory. Only regular files
// inside the directory are served: "..", and symlinks leading out, are 422.
//
//	GET /v1/models/:id/files/*name
//
//	@Summary	Download a model file
//	@ID			getModelFile
//	@Tags		models
//	@Produce	octet-stream
//	@Param		id		path		string	true	"model id"
//	@Param		name	path		string	true	"file name inside the model directory, e.g. config.json"
//	@Success	200		{file}		file
//	@Failure	401,404,422,503	{object}	Problem
//	@Router		/v1/models/{id}/files/{name} [get]
//	@Security	BearerAuth
func (s *Server) getModelFile(c *gin.Context) {
	if s.Models == nil {
		s.unavailable(c, "models")
		return
	}
	name := strings.TrimPrefix(c.Param("name"), "/")
	p, err := s.Models.File(c.Param("id"), name)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.FileAttachment(p, path.Base(name))
}
