package api

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/internal/datastore"
)

// DatasetList is the body of GET /v1/datasets.
type DatasetList struct {
	Datasets []*datastore.Dataset `json:"datasets"`
}

// createDataset stores a JSONL training set sent as the raw request body.
// Every row is validated first (training.ReadJSONL); a file with problems
// is answered 422 with all of them, each naming its line and field, and
// nothing is stored.
//
//	POST /v1/datasets
//
//	@Summary		Upload a JSONL dataset (raw body)
//	@Description	The body is JSONL: one object per line with "messages" or "prompt"/"completion". Rows with a blank completion are dropped and counted; structural problems (invalid JSON, missing or mistyped fields) reject the whole file with a 422 listing every problem. multipart/form-data with a "file" part is accepted on this path too (see uploadDatasetForm).
//	@ID				uploadDataset
//	@Tags			datasets
//	@Accept			application/x-ndjson
//	@Produce		json
//	@Param			name	query		string	false	"label for the dataset, e.g. the file name"
//	@Param			body	body		string	true	"JSONL rows"
//	@Success		201		{object}	datastore.Dataset
//	@Failure		400,401,413,422,503	{object}	Problem
//	@Router			/v1/datasets [post]
//	@Security		BearerAuth
func (s *Server) createDataset(c *gin.Context) {
	if s.Datasets == nil {
		s.unavailable(c, "datasets")
		return
	}
	max := s.MaxDatasetBytes
	ct, params, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if ct == "multipart/form-data" {
		// Multipart framing adds a few hundred bytes per part.
		body := http.MaxBytesReader(c.Writer, c.Request.Body, max+64<<10)
		name, part, err := filePart(body, params["boundary"], c.Query("name"))
		if err != nil {
			s.fail(c, err)
			return
		}
		s.storeDataset(c, name, part)
		return
	}
	s.storeDataset(c, c.Query("name"), http.MaxBytesReader(c.Writer, c.Request.Body, max))
}

// createDatasetForm stores a JSONL training set sent as a multipart form.
//
//	POST /v1/datasets/form
//
//	@Summary		Upload a JSONL dataset (multipart form)
//	@Description	Same as uploadDataset, with the file in the "file" part of a multipart/form-data body; its file name becomes the dataset's name unless "name" is given.
//	@ID				uploadDatasetForm
//	@Tags			datasets
//	@Accept			mpfd
//	@Produce		json
//	@Param			file	formData	file	true	"the JSONL file"
//	@Param			name	formData	string	false	"label for the dataset (a part before the file)"
//	@Success		201		{object}	datastore.Dataset
//	@Failure		400,401,413,415,422,503	{object}	Problem
//	@Router			/v1/datasets/form [post]
//	@Security		BearerAuth
func (s *Server) createDatasetForm(c *gin.Context) {
	if ct, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type")); ct != "multipart/form-data" {
		problem(c, http.StatusUnsupportedMediaType, typeUnsupportedMedia, "Unsupported media type",
			"want multipart/form-data with a \"file\" part", "Content-Type")
		return
	}
	s.createDataset(c)
}

// storeDataset validates and stores r, answering 201 or a problem.
func (s *Server) storeDataset(c *gin.Context, name string, r io.Reader) {
	d, err := s.Datasets.Create(name, r)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, d)
}

// filePart returns the reader of the "file" part of a multipart body and
// the dataset name: name when set, else a "name" part before the file, else
// the file's name.
func filePart(body io.Reader, boundary, name string) (string, io.Reader, error) {
	if boundary == "" {
		return "", nil, wmss.FieldErrorf("Content-Type", "multipart/form-data without a boundary")
	}
	mr := multipart.NewReader(body, boundary)
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return "", nil, wmss.FieldErrorf("file", "the form has no \"file\" part")
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return "", nil, err
			}
			return "", nil, wmss.FieldErrorf("body", "malformed multipart body: %v", err)
		}
		switch p.FormName() {
		case "name":
			b, err := io.ReadAll(io.LimitReader(p, 1024))
			if err != nil {
				return "", nil, wmss.FieldErrorf("name", "reading the name part: %v", err)
			}
			if name == "" {
				name = strings.TrimSpace(string(b))
			}
		case "file":
			if name == "" {
				name = p.FileName()
			}
			return name, p, nil
		}
	}
}

// listDatasets lists the uploaded datasets, newest first.
//
//	GET /v1/datasets
//
//	@Summary	List datasets
//	@ID			listDatasets
//	@Tags		datasets
//	@Produce	json
//	@Success	200	{object}	DatasetList
//	@Failure	401,503	{object}	Problem
//	@Router		/v1/datasets [get]
//	@Security	BearerAuth
func (s *Server) listDatasets(c *gin.Context) {
	if s.Datasets == nil {
		s.unavailable(c, "datasets")
		return
	}
	list, err := s.Datasets.List()
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, DatasetList{Datasets: list})
}

// getDataset returns one dataset's metadata.
//
//	GET /v1/datasets/:id
//
//	@Summary	Get a dataset
//	@ID			getDataset
//	@Tags		datasets
//	@Produce	json
//	@Param		id	path		string	true	"dataset id, e.g. ds_0190a3b4c5d6e1f2a3b4"
//	@Success	200	{object}	datastore.Dataset
//	@Failure	401,404,503	{object}	Problem
//	@Router		/v1/datasets/{id} [get]
//	@Security	BearerAuth
func (s *Server) getDataset(c *gin.Context) {
	if s.Datasets == nil {
		s.unavailable(c, "datasets")
		return
	}
	d, err := s.Datasets.Get(c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

// deleteDataset removes a dataset and its file.
//
//	DELETE /v1/datasets/:id
//
//	@Summary	Delete a dataset
//	@ID			deleteDataset
//	@Tags		datasets
//	@Param		id	path	string	true	"dataset id"
//	@Success	204
//	@Failure	401,404,503	{object}	Problem
//	@Router		/v1/datasets/{id} [delete]
//	@Security	BearerAuth
func (s *Server) deleteDataset(c *gin.Context) {
	if s.Datasets == nil {
		s.unavailable(c, "datasets")
		return
	}
	if err := s.Datasets.Delete(c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
