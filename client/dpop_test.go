package client_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse/gatehouse/client"
)

// newDPoPClient returns a client that authenticates with a private key
// and sends DPoP-bound tokens, a token server and an API that asks for
// apiNonce.
func newDPoPClient(t *testing.T, apiNonce string) (*http.Client, *keyServer, *dpopAPI) {
	t.Helper()
	ks := startKeyServer(t, testKeys()["ec"].Public(), "")
	a := startDPoPAPI(t, ks, apiNonce)
	pk, err := client.NewPrivateKey(testKeys()["ec"], "ES256", "")
	if err != nil {
		t.Fatal(err)
	}
	d, err := client.NewDPoP(testKeys()["other-ec"], "ES256")
	if err != nil {
		t.Fatal(err)
	}
	hc := client.NewClient(context.Background(), &clientcredentials.Config{ClientID: "c_123", TokenURL: ks.tokenURL()},
		client.WithPrivateKey(pk), client.WithDPoP(d))
	hc.Timeout = 10 * time.Second
	return hc, ks, a
}

func TestTransportDPoP(t *testing.T) {
	tests := []struct {
		name     string
		apiNonce string
		// before runs after a first successful call with token-1.
		before  func(a *dpopAPI)
		request func(url string) *http.Request
		status  int
		body    string
		// tokens and apiCalls count what the request under test caused.
		tokens, apiCalls int
	}{
		{"a proof per request", "", func(*dpopAPI) {}, get, 200, "GET  with token-1", 0, 1},
		{"the API's nonce is kept", "n-1", func(*dpopAPI) {}, get, 200, "GET  with token-1", 0, 1},
		{"a new nonce: one retry", "n-1", func(a *dpopAPI) { a.setNonce("n-2") }, func(u string) *http.Request {
			req, _ := http.NewRequest("POST", u, strings.NewReader("payload"))
			return req
		}, 200, "POST payload with token-1", 0, 2},
		{"revoked: a new token", "", func(a *dpopAPI) { a.revoke("token-1") }, get, 200, "GET  with token-2", 1, 2},
		{"a new nonce and revoked", "n-1", func(a *dpopAPI) { a.setNonce("n-2"); a.revoke("token-1") }, get,
			200, "GET  with token-2", 1, 3},
		{"a new nonce, body that cannot be replayed", "n-1", func(a *dpopAPI) { a.setNonce("n-2") }, func(u string) *http.Request {
			req, _ := http.NewRequest("PUT", u, io.NopCloser(strings.NewReader("payload")))
			return req
		}, 401, "", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc, ks, a := newDPoPClient(t, tt.apiNonce)
			if status, body := send(t, hc, get(a.URL+"/things")); status != 200 {
				t.Fatalf("first call: got %d %q, want 200", status, body)
			}
			tt.before(a)
			tokens, calls := ks.requests, a.calls
			status, body := send(t, hc, tt.request(a.URL+"/things"))
			if status != tt.status || body != tt.body {
				t.Errorf("got %d %q, want %d %q", status, body, tt.status, tt.body)
			}
			if got := ks.requests - tokens; got != tt.tokens {
				t.Errorf("token requests: got %d, want %d", got, tt.tokens)
			}
			if got := a.calls - calls; got != tt.apiCalls {
				t.Errorf("API calls: got %d, want %d", got, tt.apiCalls)
			}
		})
	}
}

func TestTransportDPoPMismatch(t *testing.T) {
	a := startAPI()
	defer a.Close()
	d, _ := client.NewDPoP(testKeys()["ec"], "")
	tests := []struct {
		name   string
		tok    *oauth2.Token
		dpop   *client.DPoP
		status int // 0 for an error
	}{
		{"a bound token without a DPoP key", &oauth2.Token{AccessToken: "a", TokenType: "DPoP"}, nil, 0},
		{"a bearer token with a DPoP key goes as Bearer", &oauth2.Token{AccessToken: "a", TokenType: "bearer"}, d, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &client.Transport{Source: &fakeSource{tokens: []*oauth2.Token{tt.tok}}, DPoP: tt.dpop}
			hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			resp, err := hc.Get(a.URL)
			status := 0
			if err == nil {
				status = resp.StatusCode
				resp.Body.Close()
			}
			if status != tt.status {
				t.Errorf("got %d (%v), want %d", status, err, tt.status)
			}
		})
	}
}
