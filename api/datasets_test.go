package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wmss/wmss/api"
	"github.com/wmss/wmss/internal/datastore"
)

const twoRows = `{"prompt":"2+2=","completion":"4"}
{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}
`

func multipartBody(t *testing.T, fields map[string]string, filename, content string) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if filename != "" {
		fw, err := mw.CreateFormFile("file", filename)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(content))
	}
	mw.Close()
	return b.Bytes(), mw.FormDataContentType()
}

func TestDatasets(t *testing.T) {
	h := newHarness(t)
	var d datastore.Dataset
	t.Run("UploadRaw", func(t *testing.T) {
		h.json(h.req(http.MethodPost, "/v1/datasets?name=train.jsonl", []byte(twoRows), "Content-Type", "application/x-ndjson"), 201, &d)
		sum := sha256.Sum256([]byte(twoRows))
		if d.Name != "train.jsonl" || d.Rows != 2 || d.SHA256 != hex.EncodeToString(sum[:]) || d.Bytes != int64(len(twoRows)) {
			t.Errorf("dataset = %+v", d)
		}
	})
	t.Run("UploadMultipart", func(t *testing.T) {
		for _, path := range []string{"/v1/datasets", "/v1/datasets/form"} {
			body, ct := multipartBody(t, nil, "mine.jsonl", twoRows)
			var got datastore.Dataset
			h.json(h.req(http.MethodPost, path, body, "Content-Type", ct), 201, &got)
			if got.Name != "mine.jsonl" || got.Rows != 2 || got.SHA256 != d.SHA256 {
				t.Errorf("%s: dataset = %+v", path, got)
			}
		}
		body, ct := multipartBody(t, map[string]string{"name": "named"}, "f.jsonl", twoRows)
		var got datastore.Dataset
		h.json(h.req(http.MethodPost, "/v1/datasets/form", body, "Content-Type", ct), 201, &got)
		if got.Name != "named" {
			t.Errorf("name = %q, want the name part", got.Name)
		}
	})
	t.Run("ListGetDelete", func(t *testing.T) {
		var list api.DatasetList
		h.json(h.req(http.MethodGet, "/v1/datasets", nil), 200, &list)
		if len(list.Datasets) != 4 || list.Datasets[3].ID != d.ID {
			t.Fatalf("list = %+v", list)
		}
		var got datastore.Dataset
		h.json(h.req(http.MethodGet, "/v1/datasets/"+d.ID, nil), 200, &got)
		if got.SHA256 != d.SHA256 || got.Path != d.Path {
			t.Errorf("get = %+v", got)
		}
		if w := h.req(http.MethodDelete, "/v1/datasets/"+d.ID, nil); w.Code != 204 {
			t.Fatalf("delete = %d %s", w.Code, w.Body)
		}
		h.problem(h.req(http.MethodGet, "/v1/datasets/"+d.ID, nil), 404, "not_found", "id")
		h.problem(h.req(http.MethodDelete, "/v1/datasets/"+d.ID, nil), 404, "not_found", "id")
		// The escaped slashes decode into a path no route matches.
		if w := h.req(http.MethodGet, "/v1/datasets/..%2F..%2Fetc", nil); w.Code != 404 {
			t.Errorf("traversal id = %d", w.Code)
		}
		h.problem(h.req(http.MethodGet, "/v1/datasets/..", nil), 404, "not_found", "id")
	})
}

func TestDatasets_Errors(t *testing.T) {
	h := newHarness(t, func(s *api.Server) { s.MaxDatasetBytes = 200 })
	before := func() int {
		var list api.DatasetList
		h.json(h.req(http.MethodGet, "/v1/datasets", nil), 200, &list)
		return len(list.Datasets)
	}
	t.Run("InvalidRowsListed", func(t *testing.T) {
		bad := "{\"prompt\":\"a\",\"completion\":\"b\"}\n{\"prompt\":1,\"completion\":\"b\"}\n{oops\n"
		p := h.problem(h.req(http.MethodPost, "/v1/datasets?name=bad.jsonl", []byte(bad)), 422, "invalid", "bad.jsonl:2: prompt")
		if len(p.Errors) != 2 {
			t.Fatalf("errors = %+v", p.Errors)
		}
		if e := p.Errors[0]; e.Line != 2 || e.Field != "prompt" || e.Reason != "wrong_type" {
			t.Errorf("errors[0] = %+v", e)
		}
		if e := p.Errors[1]; e.Line != 3 || e.Reason != "invalid_json" {
			t.Errorf("errors[1] = %+v", e)
		}
		if n := before(); n != 0 {
			t.Errorf("%d datasets stored after a failed upload", n)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		h.problem(h.req(http.MethodPost, "/v1/datasets", nil), 422, "invalid", "file")
	})
	t.Run("TooLarge", func(t *testing.T) {
		big := strings.Repeat(`{"prompt":"aaaaaaaa","completion":"bbbbbbbb"}`+"\n", 10)
		h.problem(h.req(http.MethodPost, "/v1/datasets", []byte(big)), 413, "body_too_large", "")
		body, ct := multipartBody(t, nil, "big.jsonl", strings.Repeat(big, 2000))
		h.problem(h.req(http.MethodPost, "/v1/datasets/form", body, "Content-Type", ct), 413, "body_too_large", "")
		if n := before(); n != 0 {
			t.Errorf("%d datasets stored after oversize uploads", n)
		}
	})
	t.Run("FormNotMultipart", func(t *testing.T) {
		h.problem(h.req(http.MethodPost, "/v1/datasets/form", []byte(twoRows), "Content-Type", "application/x-ndjson"), 415, "unsupported_media_type", "Content-Type")
	})
	t.Run("FormWithoutFile", func(t *testing.T) {
		body, ct := multipartBody(t, map[string]string{"name": "x"}, "", "")
		h.problem(h.req(http.MethodPost, "/v1/datasets/form", body, "Content-Type", ct), 422, "invalid", "file")
	})
	t.Run("NoAuth", func(t *testing.T) {
		w := httptest.NewRecorder()
		h.s.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1/datasets", strings.NewReader(twoRows)))
		h.problem(w, 401, "unauthorized", "Authorization")
	})
}
