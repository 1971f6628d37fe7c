package token

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/jwks"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// jwksServer is a client's jwks_uri over HTTPS: it serves doc and counts
// the fetches.
type jwksServer struct {
	*httptest.Server
	fetches atomic.Int32

	mu  sync.Mutex
	doc string
}

func newJWKSServer(t *testing.T, doc string) *jwksServer {
	t.Helper()
	s := &jwksServer{doc: doc}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		doc := s.doc
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write([]byte(doc))
	}))
	// A client that refuses the certificate is part of the tests.
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(doc string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.doc = doc
}

func (s *jwksServer) uri() string { return s.URL + "/jwks.json" }

// remoteConfig fetches clients' JWKS with client, over HTTPS only, with a
// short timeout and a 64 KiB size limit.
func remoteConfig(client *http.Client) Config {
	return Config{IssuerURL: issuerURL, JWKS: jwks.RemoteOptions{HTTPClient: client, RequireHTTPS: true, Timeout: 500 * time.Millisecond, MaxBytes: 64 << 10}}
}

// TestPrivateKeyJWTRemoteJWKS: a jwks_uri is fetched once and served from
// the cache; a key the client adds is found by the one refresh an
// unknown kid may cause in a minute, and no more fetches follow.
func TestPrivateKeyJWTRemoteJWKS(t *testing.T) {
	w := newWorld(t)
	k := testKeys()
	srv := newJWKSServer(t, registered(t, "ec", "rsa"))
	c := w.withAuth(store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKSURI: srv.uri()}, admin.NewClient{Grants: map[string][]string{platform: {"read"}}})
	iss := w.issuer(remoteConfig(srv.Client()))
	ask := func(key clientKey) error {
		_, err := iss.Token(t.Context(), assertionReq(signJWT(t, key, assertionClaims(c.id, tokenURL, w.clock.Now())), "audience", platform), "", addr)
		return err
	}
	wantFetches := func(step string, n int32) {
		t.Helper()
		if got := srv.fetches.Load(); got != n {
			t.Errorf("%s: got %d fetches of the jwks_uri, want %d", step, got, n)
		}
	}
	for n, key := range []clientKey{k["ec"], k["rsa"], k["ec"].withoutKid(), k["rsa"], k["ec"]} {
		if err := ask(key); err != nil {
			t.Fatalf("request %d: got %v, want a token", n+1, err)
		}
	}
	wantFetches("five requests", 1)

	// The client publishes its next key and signs with it at once: the
	// cache was filled less than a minute ago, so no refresh yet.
	srv.set(registered(t, "ec", "ec2"))
	wantError(t, ask(k["ec2"]), 401, "invalid_client", "")
	wantFetches("an unknown kid within a minute of the fetch", 1)

	w.clock.Add(time.Minute)
	if err := ask(k["ec2"]); err != nil {
		t.Fatalf("the new key a minute later: got %v, want a token", err)
	}
	wantFetches("the new key a minute later", 2)
	for range 3 {
		wantError(t, ask(k["foreign"].withoutKid()), 401, "invalid_client", "")
		wantError(t, ask(clientKey{kid: "nobody-knows", alg: "ES256", priv: k["foreign"].priv}), 401, "invalid_client", "")
	}
	if err := ask(k["ec2"]); err != nil {
		t.Errorf("the new key again: got %v, want a token", err)
	}
	if err := ask(k["rsa"]); err == nil {
		t.Errorf("the key the client dropped: got a token, want invalid_client")
	}
	wantFetches("unknown keys within the minute", 2)
}

// TestPrivateKeyJWTRemoteJWKSFails: a jwks_uri that cannot be had, or
// that serves what must not be trusted, is invalid_client, answered
// within the fetch timeout, with the reason in the log; never a 500.
func TestPrivateKeyJWTRemoteJWKSFails(t *testing.T) {
	w := newWorld(t)
	c := w.withAuth(store.ClientAuth{Method: store.AuthPrivateKeyJWT}, admin.NewClient{Grants: map[string][]string{platform: {"read"}}})
	k := testKeys()

	release := make(chan struct{})
	hanging := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(hanging.Close)
	t.Cleanup(func() { close(release) })
	closed := httptest.NewTLSServer(http.NotFoundHandler())
	closed.Close()
	failing := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "oops", http.StatusInternalServerError)
	}))
	t.Cleanup(failing.Close)
	padded := strings.TrimSuffix(registered(t, "ec"), "}") + `,"padding":"` + strings.Repeat("x", 64<<10) + `"}`
	huge := newJWKSServer(t, padded)
	private := newJWKSServer(t, jwksOf(t, k["ec"].priv))
	notJWKS := newJWKSServer(t, `<html>not found</html>`)
	untrusting := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}}

	cases := []struct {
		name, uri string
		client    *http.Client
		reason    string
	}{
		{"a server that never answers", hanging.URL + "/jwks.json", hanging.Client(), "no complete answer within 500ms"},
		{"a closed port", closed.URL + "/jwks.json", closed.Client(), "connection refused"},
		{"a server error", failing.URL + "/jwks.json", failing.Client(), "status 500"},
		{"a document over the size limit", huge.uri(), huge.Client(), "document larger than"},
		{"a JWKS holding a private key", private.uri(), private.Client(), "holds private key material"},
		{"not a JWKS", notJWKS.uri(), notJWKS.Client(), "want a JWK Set"},
		{"an http jwks_uri", strings.Replace(private.uri(), "https:", "http:", 1), private.Client(), "not an https URL"},
		{"a certificate gatehouse does not trust", private.uri(), untrusting, "certificate signed by unknown authority"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.setAuth(c, store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKSURI: tc.uri})
			e := w.serve(t, remoteConfig(tc.client), nil)
			jwt := signJWT(t, k["ec"], assertionClaims(c.id, tokenURL, w.clock.Now()))
			e.secrets = append(e.secrets, jwt)
			start := time.Now()
			a := e.postForm(assertionForm(jwt, "audience", platform), nil)
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("took %v, want an answer within the 500ms fetch timeout (and some slack)", took)
			}
			if a.status != 401 || a.body != invalidClientBody() {
				t.Errorf("got %d %s, want 401 invalid_client", a.status, a.body)
			}
			logs := e.logs.String()
			if !strings.Contains(logs, tc.reason) || !strings.Contains(logs, `"level":"INFO"`) {
				t.Errorf("want the reason %q logged at INFO:\n%s", tc.reason, logs)
			}
			// The failure is remembered for a minute: no fetch per request.
			again := signJWT(t, k["ec"], assertionClaims(c.id, tokenURL, w.clock.Now()))
			_, err := e.iss.Token(t.Context(), assertionReq(again, "audience", platform), "", addr)
			if e := oauth.AsError(err); e.Status != 401 {
				t.Errorf("again: got %v, want 401", err)
			}
		})
	}
}
