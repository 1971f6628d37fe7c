package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/gatehouse/gatehouse/internal/admin"
)

// loadOpenAPI loads and validates the admin API's OpenAPI document as an
// OpenAPI 3.1 tool would.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(admin.OpenAPIDocument())
	if err != nil {
		t.Fatalf("loading internal/admin/openapi.json: %v", err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("internal/admin/openapi.json is not a valid OpenAPI document: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() || doc.IsOpenAPI32OrLater() {
		t.Fatalf("internal/admin/openapi.json: got openapi %q, want 3.1.x", doc.OpenAPI)
	}
	return doc
}

// operations lists the document's operations as mux patterns, "GET /path".
func operations(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	sort.Strings(out)
	return out
}

// openAPICheck sends admin API requests to a real node and validates each
// request and answer against the document with kin-openapi's
// openapi3filter. It finds a request's operation with a ServeMux built
// from the document's paths, so path parameters are matched and unescaped
// exactly as the server's own mux does.
type openAPICheck struct {
	t    *testing.T
	doc  *openapi3.T
	mux  *http.ServeMux
	base string
	// answered holds the statuses each operation gave.
	answered map[string][]int
}

func newOpenAPICheck(t *testing.T, doc *openapi3.T, base string) *openAPICheck {
	c := &openAPICheck{t: t, doc: doc, mux: http.NewServeMux(), base: base, answered: map[string][]int{}}
	for _, pattern := range operations(doc) {
		c.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Pattern", r.Pattern)
			_, path, _ := strings.Cut(r.Pattern, " ")
			for _, seg := range strings.Split(path, "/") {
				if name, ok := strings.CutPrefix(seg, "{"); ok {
					name = strings.TrimSuffix(name, "}")
					w.Header().Set("X-Param-"+name, r.PathValue(name))
				}
			}
		})
	}
	return c
}

// route finds the document's operation for req, with its path parameters.
func (c *openAPICheck) route(req *http.Request) (*routers.Route, map[string]string, bool) {
	probe := httptest.NewRecorder()
	c.mux.ServeHTTP(probe, req.Clone(req.Context()))
	pattern := probe.Header().Get("X-Pattern")
	if pattern == "" {
		return nil, nil, false
	}
	method, path, _ := strings.Cut(pattern, " ")
	item := c.doc.Paths.Value(path)
	params := map[string]string{}
	for k, v := range probe.Header() {
		if name, ok := strings.CutPrefix(k, "X-Param-"); ok {
			params[strings.ToLower(name)] = v[0]
		}
	}
	return &routers.Route{Spec: c.doc, Path: path, PathItem: item, Method: method, Operation: item.GetOperation(method)}, params, true
}

// call sends one request (tok "" sends none) and validates it and its
// answer. The answer must always match the document; reqErr says whether
// the document accepts the request (a request the server refuses as
// malformed should be refused by the document too).
func (c *openAPICheck) call(method, path, tok, body string) (status int, answer []byte, reqErr error) {
	c.t.Helper()
	newReq := func() *http.Request {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, rd)
		if err != nil {
			c.t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		return req
	}
	req := newReq()
	route, params, ok := c.route(req)
	if !ok {
		c.t.Fatalf("%s %s: no operation in internal/admin/openapi.json matches", method, path)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: bearerHasScopes, IncludeResponseStatus: true, MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	reqErr = openapi3filter.ValidateRequest(c.t.Context(), in)

	resp, err := http.DefaultClient.Do(newReq())
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ = io.ReadAll(resp.Body)
	op := route.Method + " " + route.Path
	c.answered[op] = append(c.answered[op], resp.StatusCode)
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(answer)), Options: opts}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		c.t.Errorf("%s %s: the answer %d %s does not match the document (%s): %v", method, path, resp.StatusCode, answer, op, err)
	}
	return resp.StatusCode, answer, reqErr
}

// bearerHasScopes checks what the document's security asks of a request:
// a bearer token (read without checking its signature: the server does
// that) whose scope holds the operation's scopes.
func bearerHasScopes(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	tok, ok := strings.CutPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return errors.New("no bearer token")
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return errors.New("not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return err
	}
	var claims struct {
		Scope string `json:"scope"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return err
	}
	have := strings.Fields(claims.Scope)
	for _, s := range in.Scopes {
		if !slices.Contains(have, s) {
			return errors.New("the token lacks scope " + s)
		}
	}
	return nil
}
