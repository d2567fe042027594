package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wmss/wmss/openapi"
)

// getOpenAPI serves the committed OpenAPI 3.0 description of this API.
//
//	GET /openapi.json
//
//	@Summary	OpenAPI description
//	@ID			getOpenAPI
//	@Tags		docs
//	@Produce	json
//	@Success	200	{object}	object
//	@Router		/openapi.json [get]
func (s *Server) getOpenAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json; charset=utf-8", openapi.JSON)
}

// getDocs serves a self-contained HTML page that renders /openapi.json
// (no CDN, no network: the page's script is inline).
//
//	GET /docs
//
//	@Summary	API documentation page
//	@ID			getDocs
//	@Tags		docs
//	@Produce	html
//	@Success	200	{string}	string	"HTML"
//	@Router		/docs [get]
func (s *Server) getDocs(c *gin.Context) {
	c.Header("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
	c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(docsPage))
}

// docsPage lists every operation of /openapi.json by tag, with its
// parameters, request body and responses; schemas are shown as JSON.
const docsPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>wmss API</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h2{border-bottom:1px solid #ccc;margin-top:2rem}
details{margin:.4rem 0;border:1px solid #ddd;border-radius:4px;padding:.3rem .6rem}
summary{cursor:pointer}
code,pre{font:13px ui-monospace,monospace}
pre{background:#f6f6f6;padding:.5rem;overflow:auto;max-height:24rem}
.m{display:inline-block;width:4.5rem;font-weight:bold}
.get{color:#0a6}.post{color:#06c}.delete{color:#c33}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
</style></head><body>
<h1 id="title">wmss API</h1><p id="desc"></p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.0). Routes under /v1 need <code>Authorization: Bearer &lt;token&gt;</code>.</p>
<div id="ops">Loading…</div>
<script>
"use strict";
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
}
function pre(v) { return el("pre", {}, JSON.stringify(v, null, 2)); }
fetch("/openapi.json").then(r => r.json()).then(spec => {
  document.getElementById("title").textContent = spec.info.title + " " + spec.info.version;
  document.getElementById("desc").textContent = spec.info.description || "";
  const byTag = {};
  for (const [path, item] of Object.entries(spec.paths || {})) {
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags || ["other"])[0];
      (byTag[tag] = byTag[tag] || []).push([method, path, op]);
    }
  }
  const root = document.getElementById("ops");
  root.textContent = "";
  for (const tag of Object.keys(byTag).sort()) {
    root.append(el("h2", {}, tag));
    for (const [method, path, op] of byTag[tag]) {
      const d = el("details", {id: op.operationId || ""},
        el("summary", {}, el("span", {class: "m " + method}, method.toUpperCase()), el("code", {}, path), " — " + (op.summary || ""), " ", el("small", {}, "(" + (op.operationId || "") + ")")));
      if (op.description) d.append(el("p", {}, op.description));
      if (op.parameters && op.parameters.length) {
        const t = el("table", {}, el("tr", {}, el("th", {}, "parameter"), el("th", {}, "in"), el("th", {}, "required"), el("th", {}, "description")));
        for (const p of op.parameters) t.append(el("tr", {}, el("td", {}, el("code", {}, p.name)), el("td", {}, p.in), el("td", {}, p.required ? "yes" : "no"), el("td", {}, p.description || "")));
        d.append(t);
      }
      if (op.requestBody) { d.append(el("h4", {}, "Request body")); d.append(pre(op.requestBody.content)); }
      d.append(el("h4", {}, "Responses"));
      for (const [code, r] of Object.entries(op.responses || {})) d.append(el("div", {}, el("b", {}, code + " "), r.description || ""));
      root.append(d);
    }
  }
  root.append(el("h2", {}, "Schemas"), pre((spec.components || {}).schemas || {}));
}).catch(e => { document.getElementById("ops").textContent = "cannot load /openapi.json: " + e; });
</script></body></html>
`
