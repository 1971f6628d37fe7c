package bench

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// okBody is a token answer; these tests do not verify it.
const okBody = `{"access_token":"x.y.z","token_type":"Bearer","expires_in":900,"scope":"read"}`

// newServer starts a 127.0.0.1 server that answers POST /oauth/token
// with h and counts the connections it accepts.
func newServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	return newServerFor(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth/token" || r.Method != http.MethodPost {
			http.Error(w, "wrong path or method", http.StatusNotFound)
			return
		}
		h(w, r)
	}))
}

// newServerFor starts a 127.0.0.1 server for h and counts the connections
// it accepts.
func newServerFor(t *testing.T, h http.Handler) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func quickOpts(url string) TokenOptions {
	return TokenOptions{URL: url, ClientID: "client", ClientSecret: "secret", Audience: "https://api.example.io",
		Concurrency: 2, Duration: 150 * time.Millisecond}
}

func TestBasicAuthorization(t *testing.T) {
	tests := []struct{ id, secret, want string }{
		{"client", "secret", "Basic " + base64.StdEncoding.EncodeToString([]byte("client:secret"))},
		{"a:b", "p w+/=%&é", "Basic " + base64.StdEncoding.EncodeToString([]byte("a%3Ab:p+w%2B%2F%3D%25%26%C3%A9"))},
		{"gh_Vq3X-k9d", "gh_s3cr3t_AZaz09-_", "Basic " + base64.StdEncoding.EncodeToString([]byte("gh_Vq3X-k9d:gh_s3cr3t_AZaz09-_"))},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			got := basicAuthorization(tt.id, tt.secret)
			if got != tt.want {
				t.Errorf("basicAuthorization(%q, %q) = %q, want %q", tt.id, tt.secret, got, tt.want)
			}
			// Decode as RFC 6749 §2.3.1 says a server does.
			raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(got, "Basic "))
			if err != nil {
				t.Fatal(err)
			}
			id, secret, _ := strings.Cut(string(raw), ":")
			id, _ = url.QueryUnescape(id)
			secret, _ = url.QueryUnescape(secret)
			if id != tt.id || secret != tt.secret {
				t.Errorf("decoded %q, %q, want %q, %q", id, secret, tt.id, tt.secret)
			}
		})
	}
}

func TestTokenRequestShapes(t *testing.T) {
	tests := []struct {
		auth        AuthMethod
		contentType string
		basic       bool
	}{
		{AuthPost, "application/x-www-form-urlencoded", false},
		{AuthBasic, "application/x-www-form-urlencoded", true},
		{AuthJSON, "application/json", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.auth), func(t *testing.T) {
			var mu sync.Mutex
			var got map[string]string
			var gotCT, gotAuth string
			srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				params := map[string]string{}
				if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
					_ = json.NewDecoder(r.Body).Decode(&params)
				} else {
					_ = r.ParseForm()
					for k := range r.PostForm {
						params[k] = r.PostForm.Get(k)
					}
				}
				mu.Lock()
				got, gotCT, gotAuth = params, r.Header.Get("Content-Type"), r.Header.Get("Authorization")
				mu.Unlock()
				io.WriteString(w, okBody)
			})
			o := quickOpts(srv.URL + "/")
			o.Auth, o.Scope, o.Duration = tt.auth, "read write", 20*time.Millisecond
			if _, err := Token(context.Background(), o); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if gotCT != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", gotCT, tt.contentType)
			}
			want := map[string]string{"grant_type": "client_credentials", "audience": "https://api.example.io",
				"scope": "read write", "client_id": "client", "client_secret": "secret"}
			if tt.basic {
				delete(want, "client_id")
				delete(want, "client_secret")
				if w := basicAuthorization("client", "secret"); gotAuth != w {
					t.Errorf("Authorization = %q, want %q", gotAuth, w)
				}
			} else if gotAuth != "" {
				t.Errorf("Authorization = %q, want none", gotAuth)
			}
			if len(got) != len(want) {
				t.Errorf("parameters = %v, want %v", got, want)
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("parameter %s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestTokenCountsErrors(t *testing.T) {
	var n atomic.Int64
	srv, conns := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch n.Add(1) % 4 {
		case 0:
			io.WriteString(w, okBody)
		case 1:
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid_client","error_description":"client authentication failed"}`)
		case 2:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":"too_many_requests","error_description":"slow down"}`)
		case 3:
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html>bad gateway</html>")
		}
	})
	o := quickOpts(srv.URL)
	o.Concurrency = 4
	res, err := Token(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil {
		t.Errorf("Err() = %v, want nil for a run with tokens", err)
	}
	counts := map[string]uint64{}
	for _, f := range res.Failures {
		counts[http.StatusText(f.Status)+"/"+f.Error] = f.Count
	}
	sum := res.OK
	for _, k := range []string{"Unauthorized/invalid_client", "Too Many Requests/too_many_requests", "Bad Gateway/"} {
		c := counts[k]
		sum += c
		if diff := int64(c) - int64(res.OK); c == 0 || diff > 4 || diff < -4 {
			t.Errorf("%s answers = %d, want about %d (as many as tokens), failures %+v", k, c, res.OK, res.Failures)
		}
	}
	if res.Requests != sum || res.Requests != uint64(n.Load()) {
		t.Errorf("requests = %d, want %d counted and %d served", res.Requests, sum, n.Load())
	}
	if res.TransportErrors != 0 {
		t.Errorf("transport errors = %d, want 0", res.TransportErrors)
	}
	if got := conns.Load(); got > int64(o.Concurrency) {
		t.Errorf("connections = %d, want <= %d (keep-alive, one per worker)", got, o.Concurrency)
	}
}

func TestTokenFailedRuns(t *testing.T) {
	refused := httptest.NewServer(http.NotFoundHandler())
	refused.Close() // its port now refuses connections
	tests := []struct {
		name      string
		url       func(t *testing.T) string
		transport bool
	}{
		{"every request 401", func(t *testing.T) string {
			srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, `{"error":"invalid_client"}`)
			})
			return srv.URL
		}, false},
		{"connection refused", func(*testing.T) string { return refused.URL }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := quickOpts(tt.url(t))
			o.Duration = 50 * time.Millisecond
			res, err := Token(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if res.OK != 0 || res.Requests == 0 {
				t.Errorf("ok, requests = %d, %d, want 0, some", res.OK, res.Requests)
			}
			if err := res.Err(); err == nil || !strings.Contains(err.Error(), "requests failed") {
				t.Errorf("Err() = %v, want all requests failed", err)
			}
			if got := res.TransportErrors > 0; got != tt.transport {
				t.Errorf("transport errors = %d, want some: %v", res.TransportErrors, tt.transport)
			}
			if !tt.transport && (len(res.Failures) != 1 || res.Failures[0].Error != "invalid_client") {
				t.Errorf("failures = %+v, want only 401 invalid_client", res.Failures)
			}
		})
	}
}

func TestTokenOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(*TokenOptions)
	}{
		{"no url", func(o *TokenOptions) { o.URL = "" }},
		{"not http", func(o *TokenOptions) { o.URL = "ftp://127.0.0.1" }},
		{"no secret", func(o *TokenOptions) { o.ClientSecret = "" }},
		{"negative rate", func(o *TokenOptions) { o.Rate = -1 }},
		{"unknown auth", func(o *TokenOptions) { o.Auth = "mtls" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := quickOpts("http://127.0.0.1:1")
			tt.edit(&o)
			if _, err := Token(context.Background(), o); err == nil {
				t.Errorf("Token: got no error, want one")
			}
		})
	}
}
