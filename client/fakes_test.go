package client_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
)

// tokenServer stands in for gatehouse's POST /oauth/token: it issues
// token-1, token-2, ... to client c_123 with secret gh_s3cret.
type tokenServer struct {
	*httptest.Server
	issued atomic.Int32
}

func startTokenServer() *tokenServer {
	ts := &tokenServer{}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		id, secret, _ := r.BasicAuth()
		if r.URL.Path != "/oauth/token" || id != "c_123" || secret != "gh_s3cret" ||
			r.PostFormValue("grant_type") != "client_credentials" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"Client authentication failed."}`)
			return
		}
		n := ts.issued.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": fmt.Sprintf("token-%d", n), "token_type": "Bearer", "expires_in": 900,
			"scope": r.PostFormValue("scope"),
		})
	}))
	return ts
}

// api stands in for a product API: it accepts the tokens it has not been
// told to refuse, and echoes the request body.
type api struct {
	*httptest.Server
	calls atomic.Int32

	mu      sync.Mutex
	refused map[string]bool
	all     bool // refuse every token
}

func startAPI() *api {
	a := &api{refused: map[string]bool{}}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.calls.Add(1)
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		a.mu.Lock()
		refuse := !ok || a.all || a.refused[tok]
		a.mu.Unlock()
		if refuse {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s with %s", r.Method, body, tok)
	}))
	return a
}

// revoke makes the API refuse tok from now on.
func (a *api) revoke(tok string) {
	a.mu.Lock()
	a.refused[tok] = true
	a.mu.Unlock()
}

// refuseAll makes the API refuse every token.
func (a *api) refuseAll() {
	a.mu.Lock()
	a.all = true
	a.mu.Unlock()
}
