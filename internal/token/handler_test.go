package token

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/proxy"
	"github.com/gatehouse/gatehouse/internal/store"
)

// recorder is an Observer that remembers what it heard.
type recorder struct {
	mu      sync.Mutex
	issued  []issuedCall
	refused []string // error codes
}

type issuedCall struct {
	grant *Grant
	addr  string
}

func (o *recorder) Issued(_ *http.Request, g *Grant, addr string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.issued = append(o.issued, issuedCall{g, addr})
}

func (o *recorder) Refused(_ *http.Request, e *oauth.Error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.refused = append(o.refused, e.Code)
}

// count is how many tokens the observer heard of.
func (o *recorder) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.issued)
}

func (o *recorder) last() (issuedCall, string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var i issuedCall
	var r string
	if len(o.issued) > 0 {
		i = o.issued[len(o.issued)-1]
	}
	if len(o.refused) > 0 {
		r = o.refused[len(o.refused)-1]
	}
	return i, r
}

// endpoint is a Handler on a real listener over a world, with its log
// captured and every secret and token it handed out remembered: when the
// test ends none of them may be in the log.
type endpoint struct {
	*world
	ts      *httptest.Server
	url     string
	obs     *recorder
	logs    *logging.Buffer
	secrets []string
}

// newEndpoint serves h's ServeHTTP (POST /oauth/token); proxies may be nil.
func newEndpoint(t *testing.T, proxies *proxy.Trust) *endpoint {
	t.Helper()
	e := &endpoint{world: newWorld(t), obs: &recorder{}, logs: &logging.Buffer{}}
	e.start(NewHandler(e.iss, proxies, "", e.obs, e.logger()), nil)
	return e
}

// serve is the token endpoints of a new Issuer over w with cfg (its own
// throttle, single-use ids and client key cache: a fresh node), mounted
// as the server mounts them, on a real listener, for t. tlsConfig, when
// not nil, makes it an HTTPS listener with those settings.
func (w *world) serve(t *testing.T, cfg Config, tlsConfig *tls.Config) *endpoint {
	t.Helper()
	node := *w
	node.t = t
	node.iss = node.issuer(cfg)
	e := &endpoint{world: &node, obs: &recorder{}, logs: &logging.Buffer{}}
	h := NewHandler(node.iss, nil, "", e.obs, e.logger())
	mux := http.NewServeMux()
	mux.Handle("/oauth/token", h)
	mux.HandleFunc("/oauth/introspect", h.Introspect)
	mux.HandleFunc("/oauth/revoke", h.Revoke)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if service, ok := ServiceFromPath(r.URL.Path); ok {
			h.ServeService(w, r, service)
			return
		}
		http.NotFound(w, r)
	})
	e.start(mux, tlsConfig)
	return e
}

func (e *endpoint) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// start serves h, over TLS when tlsConfig is set, until the test ends.
func (e *endpoint) start(h http.Handler, tlsConfig *tls.Config) {
	e.ts = httptest.NewUnstartedServer(h)
	if tlsConfig != nil {
		e.ts.TLS = tlsConfig
		e.ts.StartTLS()
	} else {
		e.ts.Start()
	}
	e.t.Cleanup(func() {
		e.ts.Close()
		e.checkLogs()
	})
	e.url = e.ts.URL
}

func (e *endpoint) client(n admin.NewClient) cred {
	c := e.world.client(n)
	e.secrets = append(e.secrets, c.secret)
	return c
}

func (e *endpoint) checkLogs() {
	out := e.logs.String()
	for _, s := range e.secrets {
		if s != "" && strings.Contains(out, s) {
			e.t.Errorf("a secret or token appeared in the log: %.14s...", s)
		}
	}
	if strings.Contains(out, "Authorization") || strings.Contains(out, "Basic ") {
		e.t.Errorf("an Authorization header appeared in the log")
	}
}

// answer is what came back from one HTTP request.
type answer struct {
	status int
	header http.Header
	body   string
}

func (a answer) fields() map[string]any {
	var m map[string]any
	json.Unmarshal([]byte(a.body), &m)
	return m
}

// send makes a request to the endpoint; header may be nil.
func (e *endpoint) send(method, path, ctype, body string, header http.Header) answer {
	e.t.Helper()
	return e.sendWithCert(nil, method, path, ctype, body, header)
}

// sendWithCert is send over a new TLS connection presenting cert (nil:
// no certificate) when the endpoint serves HTTPS.
func (e *endpoint) sendWithCert(cert *tls.Certificate, method, path, ctype, body string, header http.Header) answer {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	client := http.DefaultClient
	if e.ts.TLS != nil {
		tr := e.ts.Client().Transport.(*http.Transport).Clone()
		defer tr.CloseIdleConnections()
		if cert != nil {
			tr.TLSClientConfig.Certificates = []tls.Certificate{*cert}
		}
		client = &http.Client{Transport: tr}
	}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if tok, _ := (answer{body: string(data)}).fields()["access_token"].(string); tok != "" {
		e.secrets = append(e.secrets, tok)
	}
	return answer{resp.StatusCode, resp.Header, string(data)}
}

const formType = "application/x-www-form-urlencoded"

func (e *endpoint) postForm(body string, header http.Header) answer {
	e.t.Helper()
	return e.send("POST", "/oauth/token", formType, body, header)
}

func basic(id, secret string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))}}
}

// TestHandlerIssues: a token comes back as exactly the documents' four
// fields with Cache-Control: no-store, whichever way the client sends it;
// the observer hears the grant and the caller's address.
func TestHandlerIssues(t *testing.T) {
	e := newEndpoint(t, nil)
	c := e.client(admin.NewClient{Grants: map[string][]string{platform: {"read", "write"}}})
	jsonBody, _ := json.Marshal(map[string]string{"grant_type": "client_credentials", "client_id": c.id, "client_secret": c.secret, "audience": platform})
	cases := []struct {
		name, ctype, body string
		header            http.Header
	}{
		{"form, client_secret_post", formType, form("grant_type", "client_credentials", "client_id", c.id, "client_secret", c.secret, "audience", platform), nil},
		{"form, client_secret_basic", formType, form("grant_type", "client_credentials", "audience", platform), basic(c.id, c.secret)},
		{"Basic and the same client_id in the body", formType, form("grant_type", "client_credentials", "client_id", c.id, "audience", platform), basic(c.id, c.secret)},
		{"JSON", "application/json", string(jsonBody), nil},
		{"form with a charset", formType + "; charset=UTF-8", form("grant_type", "client_credentials", "client_id", c.id, "client_secret", c.secret, "audience", platform), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := e.send("POST", "/oauth/token", tc.ctype, tc.body, tc.header)
			if a.status != 200 || a.header.Get("Cache-Control") != "no-store" || a.header.Get("Pragma") != "no-cache" || a.header.Get("Content-Type") != "application/json" {
				t.Fatalf("got %d Cache-Control %q Pragma %q Content-Type %q: %s, want 200, no-store, no-cache, JSON",
					a.status, a.header.Get("Cache-Control"), a.header.Get("Pragma"), a.header.Get("Content-Type"), a.body)
			}
			f := a.fields()
			if len(f) != 4 || f["token_type"] != "Bearer" || f["scope"] != "read write" || f["expires_in"] != 86400.0 || f["access_token"] == "" {
				t.Errorf("got %v, want exactly access_token, scope, expires_in, token_type", f)
			}
			if a.header.Get("RateLimit-Limit") != "" {
				t.Errorf("a client without limits got RateLimit-Limit %q", a.header.Get("RateLimit-Limit"))
			}
			got, _ := e.obs.last()
			if got.grant == nil || got.grant.Client.ID != c.id || got.grant.JTI == "" || got.addr != "127.0.0.1" {
				t.Errorf("observer heard %+v, want the client's grant from 127.0.0.1", got)
			}
		})
	}
}

// TestHandlerPerService: at the per-service endpoint the parameters may
// come in the query string with no body and no Content-Type, as the
// gateway document sends them.
func TestHandlerPerService(t *testing.T) {
	e := newEndpoint(t, nil)
	site := e.client(admin.NewClient{Environment: "qa", Grants: map[string][]string{property: {"property:write"}}})
	h := NewHandler(e.iss, nil, "", e.obs, slog.New(slog.NewJSONHandler(e.logs, nil)))
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		service, _ := ServiceFromPath(r.URL.Path)
		h.ServeService(w, r, service)
	}))
	defer ts.Close()
	e.url = ts.URL
	query := "?grant_type=client_credentials&client_id=" + site.id + "&client_secret=" + site.secret
	a := e.send("POST", "/streaming-property/v1/oauth2/token"+query, "", "", nil)
	if a.status != 200 || a.header.Get("Cache-Control") != "no-store" || !opaqueRE.MatchString(a.fields()["access_token"].(string)) {
		t.Fatalf("the document's request: got %d %s, want an opaque token", a.status, a.body)
	}
	for _, tc := range []struct {
		name, path, ctype, body string
		status                  int
		code                    string
	}{
		{"unknown service", "/nothing/v1/oauth2/token" + query, "", "", 404, "invalid_request"},
		{"repeated across query and body", "/streaming-property/v1/oauth2/token" + query, formType, "grant_type=client_credentials", 400, "invalid_request"},
		{"another audience", "/streaming-property/v1/oauth2/token" + query + "&audience=" + catalogue, "", "", 400, "invalid_target"},
	} {
		a := e.send("POST", tc.path, tc.ctype, tc.body, nil)
		if a.status != tc.status || a.fields()["error"] != tc.code {
			t.Errorf("%s: got %d %s, want %d %s", tc.name, a.status, a.body, tc.status, tc.code)
		}
	}
	if a := e.send("GET", "/streaming-property/v1/oauth2/token", "", "", nil); a.status != 405 || a.header.Get("Allow") != "POST" {
		t.Errorf("GET: got %d Allow %q, want 405 and POST", a.status, a.header.Get("Allow"))
	}
}

// TestHandlerLimitHeaders: where a limit applies every answer carries the
// RateLimit headers, and the refusal Retry-After.
func TestHandlerLimitHeaders(t *testing.T) {
	e := newEndpoint(t, nil)
	c := e.client(admin.NewClient{Grants: map[string][]string{platform: {"read"}}, Limits: store.Limits{RatePerSecond: 2}})
	body := form("grant_type", "client_credentials", "client_id", c.id, "client_secret", c.secret, "audience", platform)
	for n, want := range []string{"1", "0"} {
		if a := e.postForm(body, nil); a.status != 200 || a.header.Get("RateLimit-Limit") != "2" || a.header.Get("RateLimit-Remaining") != want || a.header.Get("RateLimit-Reset") != "1" {
			t.Errorf("request %d: got %d RateLimit %q/%q reset %q, want 200, 2/%s, 1", n, a.status, a.header.Get("RateLimit-Limit"), a.header.Get("RateLimit-Remaining"), a.header.Get("RateLimit-Reset"), want)
		}
	}
	a := e.postForm(body, nil)
	if a.status != 429 || a.fields()["error"] != "too_many_requests" || a.header.Get("Retry-After") != "1" || a.header.Get("RateLimit-Remaining") != "0" {
		t.Errorf("over the limit: got %d Retry-After %q RateLimit-Remaining %q: %s", a.status, a.header.Get("Retry-After"), a.header.Get("RateLimit-Remaining"), a.body)
	}
	if _, code := e.obs.last(); code != "too_many_requests" {
		t.Errorf("observer heard %q, want too_many_requests", code)
	}
	e.clock.Add(time.Second)
	if a := e.postForm(body, nil); a.status != 200 {
		t.Errorf("the next second: got %d", a.status)
	}
}

// TestHandlerCallerAddress: X-Forwarded-For names the caller only when the
// connection comes from a trusted proxy (DESIGN §6).
func TestHandlerCallerAddress(t *testing.T) {
	for _, tc := range []struct {
		name    string
		proxies *proxy.Trust
		want    string
	}{
		{"no trusted proxy", nil, "127.0.0.1"},
		{"another proxy trusted", proxy.NewTrust([]string{"10.0.0.0/8"}), "127.0.0.1"},
		{"behind a trusted proxy", proxy.NewTrust([]string{"127.0.0.1/32"}), "203.0.113.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEndpoint(t, tc.proxies)
			c := e.client(admin.NewClient{Grants: map[string][]string{platform: {"read"}}})
			a := e.postForm(form("grant_type", "client_credentials", "client_id", c.id, "client_secret", c.secret, "audience", platform),
				http.Header{"X-Forwarded-For": {"203.0.113.9"}})
			if got, _ := e.obs.last(); a.status != 200 || got.addr != tc.want {
				t.Errorf("got %d and address %q, want 200 and %q", a.status, got.addr, tc.want)
			}
		})
	}
}
