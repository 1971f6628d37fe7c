package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/fakeclock"
	"github.com/gatehouse/gatehouse/internal/logging"
)

// harness is a gatehouse on a real listener with a temporary data dir.
type harness struct {
	t       *testing.T
	srv     *Server
	ts      *httptest.Server
	cfg     config.Config
	logs    *logging.Buffer
	admin   *adminclient.Client
	secrets []string // every secret and token seen, checked against the logs
}

// start runs a gatehouse; edit may change the configuration first.
func start(t *testing.T, edit func(*config.Config)) *harness {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	return startWith(t, cfg, edit)
}

func startWith(t *testing.T, cfg config.Config, edit func(*config.Config)) *harness {
	t.Helper()
	return startOpts(t, cfg, edit, Options{})
}

// startOpts runs a gatehouse with test options (a fake clock).
func startOpts(t *testing.T, cfg config.Config, edit func(*config.Config), opts Options) *harness {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	cfg.Addr = ts.Listener.Addr().String()
	cfg.Issuer = ""
	if edit != nil {
		edit(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	logs := &logging.Buffer{}
	log, err := logging.New(logs, "debug", "json")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(context.Background(), cfg, log, opts)
	if err != nil {
		ts.Close()
		t.Fatalf("starting gatehouse: %v", err)
	}
	srv.StartBackground()
	ts.Config.Handler = srv.Handler()
	ts.Start()
	h := &harness{t: t, srv: srv, ts: ts, cfg: cfg, logs: logs}
	creds, err := admin.ReadCredentials(srv.CredentialsPath())
	if err != nil {
		t.Fatalf("reading bootstrap credentials: %v", err)
	}
	h.secrets = append(h.secrets, creds.ClientSecret)
	h.admin = adminclient.New(context.Background(), ts.URL, creds)
	t.Cleanup(func() {
		h.stop()
		h.checkLogs()
	})
	return h
}

// stop closes the listener and the store (idempotent).
func (h *harness) stop() {
	if h.ts != nil {
		h.ts.Close()
		h.srv.Close()
		h.ts = nil
	}
}

// checkLogs fails the test if any secret or token reached a log line.
func (h *harness) checkLogs() {
	out := h.logs.String()
	for _, s := range h.secrets {
		if s != "" && strings.Contains(out, s) {
			h.t.Errorf("a secret or token appeared in the log: %.12s...", s)
		}
	}
	if strings.Contains(out, "Authorization") || strings.Contains(out, "Basic ") {
		h.t.Errorf("an Authorization header appeared in the log")
	}
}

// do calls the admin API and fails the test on error. It takes a fresh
// admin token each time, since a test's fake clock may have moved past
// the last one's expiry.
func (h *harness) do(method, path string, in, out any) {
	h.t.Helper()
	creds, err := admin.ReadCredentials(h.srv.CredentialsPath())
	if err != nil {
		h.t.Fatal(err)
	}
	h.admin = adminclient.New(context.Background(), h.ts.URL, creds)
	if err := h.admin.Do(context.Background(), method, path, in, out); err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
}

// newClient creates a client and remembers its secret.
func (h *harness) newClient(in admin.ClientInput) admin.ClientView {
	h.t.Helper()
	var out admin.ClientView
	h.do("POST", "/admin/v1/clients", in, &out)
	h.secrets = append(h.secrets, out.ClientSecret)
	return out
}

// post sends a token request and returns status, headers and body.
func (h *harness) post(path, contentType, body string, header http.Header) (int, http.Header, []byte) {
	h.t.Helper()
	req, err := http.NewRequest("POST", h.ts.URL+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, data
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

func ptr[T any](v T) *T { return &v }

// seedCatalog sets up the documents' world: tenant acme with environment
// qa, the platform API with the Personalize and CDP scopes, and a legacy
// per-tenant delivery API.
func (h *harness) seedCatalog() {
	h.do("POST", "/admin/v1/tenants", map[string]string{"id": "acme", "name": "Acme"}, nil)
	h.do("POST", "/admin/v1/tenants", map[string]string{"id": "other"}, nil)
	h.do("POST", "/admin/v1/environments", map[string]string{"tenant": "acme", "id": "qa"}, nil)
	ttl := admin.Duration(24 * 3600 * 1e9)
	h.do("POST", "/admin/v1/apis", map[string]any{
		"audience": "https://api.sitecorecloud.io", "name": "platform",
		"scopes": []map[string]string{
			{"name": "personalize.decision_models:manage"}, {"name": "personalize.templates:manage"},
			{"name": "personalize.external_webservices:manage"}, {"name": "personalize.flows:manage"},
			{"name": "cdp.audience_exports:r"}, {"name": "xmclouddeploy.organizations:manage"},
			{"name": "xmclouddeploy.projects:manage"}, {"name": "xmclouddeploy.environments:manage"},
		},
		"token_ttl": ttl,
	}, nil)
	h.do("POST", "/admin/v1/apis", map[string]any{
		"audience": "https://delivery.sitecore.cloud/{tenant}", "scopes": []map[string]string{{"name": "delivery:read"}},
		"token_ttl": "24h", "signing_alg": "ES256",
	}, nil)
}

func newFakeClock() *fakeclock.Clock { return fakeclock.New(time.Now().Truncate(time.Second)) }
