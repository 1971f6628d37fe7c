package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse/gatehouse/client"
)

func newTestClient(t *testing.T) (*http.Client, *tokenServer, *api) {
	t.Helper()
	ts, a := startTokenServer(), startAPI()
	t.Cleanup(ts.Close)
	t.Cleanup(a.Close)
	cfg := &clientcredentials.Config{ClientID: "c_123", ClientSecret: "gh_s3cret", TokenURL: ts.URL + "/oauth/token",
		AuthStyle: oauth2.AuthStyleInHeader}
	hc := client.NewClient(context.Background(), cfg)
	hc.Timeout = 10 * time.Second
	return hc, ts, a
}

// send makes one request and returns its status and body.
func send(t *testing.T, hc *http.Client, req *http.Request) (int, string) {
	t.Helper()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestTransportRetry(t *testing.T) {
	tests := []struct {
		name string
		// before runs after a first successful call with token-1.
		before  func(a *api)
		request func(url string) *http.Request
		status  int
		body    string
		// fetches and apiCalls count what the request under test caused.
		fetches, apiCalls int32
	}{
		{"token still good", func(*api) {}, get, 200, "GET  with token-1", 0, 1},
		{"401 heals with one new token", func(a *api) { a.revoke("token-1") }, get, 200, "GET  with token-2", 1, 2},
		{"a second 401 is returned", func(a *api) { a.refuseAll() }, get, 401, "", 1, 2},
		{"replayable body sent again", func(a *api) { a.revoke("token-1") }, func(u string) *http.Request {
			req, _ := http.NewRequest("PUT", u, strings.NewReader("payload"))
			return req
		}, 200, "PUT payload with token-2", 1, 2},
		{"body that cannot be replayed", func(a *api) { a.revoke("token-1") }, func(u string) *http.Request {
			req, _ := http.NewRequest("PUT", u, io.NopCloser(strings.NewReader("payload")))
			return req
		}, 401, "", 0, 1},
		{"http.NoBody", func(a *api) { a.revoke("token-1") }, func(u string) *http.Request {
			req, _ := http.NewRequest("DELETE", u, http.NoBody)
			return req
		}, 200, "DELETE  with token-2", 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc, ts, a := newTestClient(t)
			if status, _ := send(t, hc, get(a.URL)); status != 200 {
				t.Fatalf("first call: got %d, want 200", status)
			}
			tt.before(a)
			fetches, calls := ts.issued.Load(), a.calls.Load()
			status, body := send(t, hc, tt.request(a.URL+"/things"))
			if status != tt.status || body != tt.body {
				t.Errorf("got %d %q, want %d %q", status, body, tt.status, tt.body)
			}
			if got := ts.issued.Load() - fetches; got != tt.fetches {
				t.Errorf("token fetches: got %d, want %d", got, tt.fetches)
			}
			if got := a.calls.Load() - calls; got != tt.apiCalls {
				t.Errorf("API calls: got %d, want %d", got, tt.apiCalls)
			}
		})
	}
}

func get(u string) *http.Request {
	req, _ := http.NewRequest("GET", u, nil)
	return req
}

// TestTransportConcurrent401 checks that requests meeting the same revoked
// token share one token request.
func TestTransportConcurrent401(t *testing.T) {
	hc, ts, a := newTestClient(t)
	send(t, hc, get(a.URL))
	a.revoke("token-1")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if status, body := send(t, hc, get(a.URL)); status != 200 || body != "GET  with token-2" {
				t.Errorf("got %d %q, want 200 with token-2", status, body)
			}
		})
	}
	wg.Wait()
	if got := ts.issued.Load(); got != 2 {
		t.Errorf("token fetches: got %d, want 2", got)
	}
}

// fakeSource hands out tokens from a list, then fails.
type fakeSource struct {
	tokens []*oauth2.Token
	calls  atomic.Int32
}

func (s *fakeSource) Token() (*oauth2.Token, error) {
	n := int(s.calls.Add(1))
	if n > len(s.tokens) {
		return nil, &oauth2.RetrieveError{ErrorCode: "invalid_client"}
	}
	return s.tokens[n-1], nil
}

func TestTransportSource(t *testing.T) {
	a := startAPI()
	defer a.Close()
	soon := time.Now().Add(client.ExpiryDelta / 2)
	tests := []struct {
		name      string
		tokens    []*oauth2.Token
		revoke    string
		requests  int
		wantCalls int32 // to the source
		status    int   // of the last request, 0 for an error
	}{
		{"no expiry is reused", []*oauth2.Token{{AccessToken: "a"}}, "", 3, 1, 200},
		{"about to expire is replaced", []*oauth2.Token{{AccessToken: "a", Expiry: soon}, {AccessToken: "b", Expiry: soon}},
			"", 2, 2, 200},
		{"token endpoint down at first", nil, "", 1, 1, 0},
		{"token endpoint down at renewal: the API's 401", []*oauth2.Token{{AccessToken: "a"}}, "a", 1, 2, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &fakeSource{tokens: tt.tokens}
			hc := &http.Client{Transport: &client.Transport{Source: src}, Timeout: 10 * time.Second}
			if tt.revoke != "" {
				a.revoke(tt.revoke)
			}
			var status int
			for range tt.requests {
				resp, err := hc.Get(a.URL)
				status = 0
				if err == nil {
					status = resp.StatusCode
					resp.Body.Close()
				} else if !errors.As(err, new(*oauth2.RetrieveError)) {
					t.Errorf("got error %v, want the token endpoint's", err)
				}
			}
			if status != tt.status || src.calls.Load() != tt.wantCalls {
				t.Errorf("got status %d after %d source calls, want %d after %d", status, src.calls.Load(), tt.status, tt.wantCalls)
			}
		})
	}
}
