package admin

import (
	_ "embed"
	"net/http"
)

// openAPI is the admin API's OpenAPI 3.1 document. Every route Mount (or
// the server) registers under /admin/v1 must have its operation there:
// TestOpenAPICoversEveryAdminRoute in internal/server walks the routes and
// validates real requests and answers against it.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPIDocument returns the admin API's OpenAPI document (JSON).
func OpenAPIDocument() []byte { return append([]byte(nil), openAPI...) }

// serveOpenAPI answers GET /admin/v1/openapi.json, without authentication:
// the document describes the API and holds no data.
func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(openAPI)
}
