package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/gateway"
	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/servertest"
	"github.com/gatehouse/gatehouse/internal/store"
)

// httpClient bounds every call a test makes.
var httpClient = &http.Client{Timeout: 10 * time.Second}

// gatehouse is a real gatehouse node on a loopback listener.
type gatehouse struct {
	t     *testing.T
	url   string
	admin *adminclient.Client
	stop  func() // closes the listener and the store; idempotent
	srv   *server.Server
}

func startGatehouse(t *testing.T) *gatehouse {
	t.Helper()
	g := servertest.Start(t, nil, server.Options{})
	return &gatehouse{t: t, url: g.URL, admin: g.Admin(), stop: g.Stop, srv: g.Server}
}

func (g *gatehouse) do(method, path string, in, out any) {
	g.t.Helper()
	if err := g.admin.Do(context.Background(), method, path, in, out); err != nil {
		g.t.Fatalf("%s %s: %v", method, path, err)
	}
}

func (g *gatehouse) newClient(name, tenant, env string, grants map[string][]string) admin.ClientView {
	g.t.Helper()
	var out admin.ClientView
	g.do("POST", "/admin/v1/clients", admin.ClientInput{Name: &name, Tenant: tenant, Environment: env, Grants: &grants}, &out)
	return out
}

// post sends a form (or nothing) to gatehouse and decodes the JSON answer.
func post(t *testing.T, u, contentType, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest("POST", u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		_ = json.Unmarshal(data, out)
	}
	return resp.StatusCode
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
	TokenType   string `json:"token_type"`
	Error       string `json:"error"`
}

// serviceToken sends the gateway document's request verbatim apart from
// the host: credentials in the query string, no body, no Content-Type.
func serviceToken(t *testing.T, base, service string, c admin.ClientView) string {
	t.Helper()
	u := base + "/" + service + "/v1/oauth2/token?grant_type=client_credentials&client_id=" + c.ClientID + "&client_secret=" + c.ClientSecret
	var resp tokenResponse
	if status := post(t, u, "", "", &resp); status != 200 || resp.AccessToken == "" {
		t.Fatalf("%s token for %s: got %d %+v, want 200 and a token", service, c.Name, status, resp)
	}
	return resp.AccessToken
}

// token gets a token at POST /oauth/token.
func (g *gatehouse) token(c admin.ClientView, audience string) string {
	g.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID},
		"client_secret": {c.ClientSecret}, "audience": {audience}}
	var resp tokenResponse
	if status := post(g.t, g.url+"/oauth/token", "application/x-www-form-urlencoded", form.Encode(), &resp); status != 200 {
		g.t.Fatalf("token for %s at %s: got %d %+v", c.Name, audience, status, resp)
	}
	return resp.AccessToken
}

// revoke revokes a token as its owner (RFC 7009).
func (g *gatehouse) revoke(c admin.ClientView, token string) {
	g.t.Helper()
	form := url.Values{"client_id": {c.ClientID}, "client_secret": {c.ClientSecret}, "token": {token}}
	if status := post(g.t, g.url+"/oauth/revoke", "application/x-www-form-urlencoded", form.Encode(), nil); status != 200 {
		g.t.Fatalf("revoke: got %d, want 200", status)
	}
}

// Audiences of the world's APIs.
const (
	propertyAudience = "https://streaming.example.io/property" // service streaming-property, opaque
	viewAudience     = "https://streaming.example.io/view"     // service streaming-view, JWT
	ordersAudience   = "https://orders.example.io"             // JWT
	reportsAudience  = "https://reports.example.io"            // opaque
)

// world is a gatehouse seeded with the documents' setup: tenant acme with
// environments qa and production (site groups), two streaming services, two
// plain APIs, their clients, and the gateway's own client.
type world struct {
	gh                    *gatehouse
	qaKey, prodKey        string
	siteQA, siteProd      admin.ClientView
	writer, reader, gwCli admin.ClientView
	secrets               []string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	gh := startGatehouse(t)
	gh.do("POST", "/admin/v1/tenants", map[string]string{"id": "acme", "name": "Acme"}, nil)
	for _, env := range []string{"qa", "production"} {
		gh.do("POST", "/admin/v1/environments", map[string]string{"tenant": "acme", "id": env}, nil)
	}
	apis := []map[string]any{
		{"audience": propertyAudience, "service": "streaming-property", "token_format": "opaque", "token_ttl": "1h",
			"scopes": []map[string]string{{"name": "property:write"}}},
		{"audience": viewAudience, "service": "streaming-view", "token_ttl": "1h", "scopes": []map[string]string{{"name": "view:read"}}},
		{"audience": ordersAudience, "token_ttl": "1h", "scopes": []map[string]string{{"name": "orders:read"}, {"name": "orders:write"}}},
		{"audience": reportsAudience, "token_format": "opaque", "token_ttl": "1h", "scopes": []map[string]string{{"name": "reports:read"}}},
	}
	for _, a := range apis {
		gh.do("POST", "/admin/v1/apis", a, nil)
	}
	w := &world{gh: gh}
	var envs []store.Environment
	gh.do("GET", "/admin/v1/environments?tenant=acme", nil, &envs)
	for _, e := range envs {
		switch e.ID {
		case "qa":
			w.qaKey = e.APIKey
		case "production":
			w.prodKey = e.APIKey
		}
	}
	if w.qaKey == "" || w.prodKey == "" {
		t.Fatalf("environments: got %+v, want qa and production with api keys", envs)
	}
	site := map[string][]string{propertyAudience: {"property:write"}, viewAudience: {"view:read"}}
	w.siteQA = gh.newClient("site group qa", "acme", "qa", site)
	w.siteProd = gh.newClient("site group production", "acme", "production", site)
	w.writer = gh.newClient("orders writer", "acme", "", map[string][]string{
		ordersAudience: {"orders:read", "orders:write"}, reportsAudience: {"reports:read"}})
	w.reader = gh.newClient("orders reader", "acme", "", map[string][]string{ordersAudience: {"orders:read"}})
	w.gwCli = gh.newClient("gateway", "acme", "", map[string][]string{store.IntrospectAudience: {store.ScopeIntrospect}})
	for _, c := range []admin.ClientView{w.siteQA, w.siteProd, w.writer, w.reader, w.gwCli} {
		w.secrets = append(w.secrets, c.ClientSecret)
	}
	return w
}

// echo is what the upstream answers: the path, query and headers it got.
type echo struct {
	Path    string      `json:"path"`
	Query   string      `json:"query"`
	Headers http.Header `json:"headers"`
}

// startUpstream is the product API behind the gateway: it echoes requests.
func startUpstream(t *testing.T) *httptest.Server {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(echo{Path: r.URL.Path, Query: r.URL.RawQuery, Headers: r.Header})
	}))
	t.Cleanup(up.Close)
	return up
}

// countingTransport counts the gateway's calls to gatehouse by path.
type countingTransport struct {
	mu    sync.Mutex
	calls map[string]int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[r.URL.Path]++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (c *countingTransport) count(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[path]
}

// runningGateway is a gateway serving on a loopback listener.
type runningGateway struct {
	url     string
	counter *countingTransport
	logs    *logging.Buffer
}

// gatewayConfig routes the world's APIs to upstream; edit may change it.
func (w *world) gatewayConfig(upstream string) gateway.Config {
	return gateway.Config{
		Listen: "127.0.0.1:0",
		Gatehouse: gateway.Gatehouse{Issuer: w.gh.url, ClientID: w.gwCli.ClientID,
			ClientSecret: w.gwCli.ClientSecret},
		Routes: []gateway.Route{
			{Service: "streaming-property", Upstream: upstream, Audience: propertyAudience,
				Scopes: []string{"property:write"}, ForwardTokenRequests: true},
			{Service: "streaming-view", Upstream: upstream, Audience: viewAudience, Scopes: []string{"view:read"}},
			{Path: "/orders/", Upstream: upstream, Audience: ordersAudience, Scopes: []string{"orders:write"}},
			{Path: "/reports/", Upstream: upstream, Audience: reportsAudience, Scopes: []string{"reports:read"},
				ForwardAuthorization: new(false), StripPrefix: true},
		},
	}
}

// startGateway runs a gateway until the test ends, and then checks that
// it shut down cleanly and that its log holds no secret or token.
func (w *world) startGateway(t *testing.T, cfg gateway.Config, tokens *[]string) *runningGateway {
	t.Helper()
	rg := &runningGateway{counter: &countingTransport{}, logs: &logging.Buffer{}}
	log := slog.New(slog.NewJSONHandler(rg.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	g, err := gateway.New(ctx, cfg, log, gateway.Options{GatehouseTransport: rg.counter})
	if err != nil {
		cancel()
		t.Fatalf("gateway.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	rg.url = "http://" + ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: got %v after shutdown, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("the gateway did not shut down within 10s")
		}
		out := rg.logs.String()
		for _, s := range append(append([]string(nil), w.secrets...), *tokens...) {
			if s != "" && strings.Contains(out, s) {
				t.Errorf("a secret or token appeared in the gateway log: %.8s...", s)
			}
		}
		if strings.Contains(out, "client_secret") || strings.Contains(out, "Authorization") {
			t.Errorf("a query string or header appeared in the gateway log")
		}
	})
	return rg
}

// answer is what a call through the gateway got.
type answer struct {
	status    int
	challenge string // WWW-Authenticate
	err       string // JSON error code
	desc      string // JSON error_description
	echo      echo   // the upstream's echo, on success
}

// call sends method path through the gateway with the token (if any) and
// extra headers.
func (rg *runningGateway) call(t *testing.T, method, path, token string, header http.Header) answer {
	t.Helper()
	req, err := http.NewRequest(method, rg.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, challenge: resp.Header.Get("WWW-Authenticate")}
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(data, &e)
	a.err, a.desc = e.Error, e.Description
	if resp.StatusCode == 200 {
		_ = json.Unmarshal(data, &a.echo)
	}
	return a
}
