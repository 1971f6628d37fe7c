package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

// TestAuditSurvivesGracefulShutdown issues N tokens on a server run as
// `gatehouse serve` runs it, stops it gracefully straight away, and finds
// all N issuance events (and the admin changes) in the store.
func TestAuditSurvivesGracefulShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := config.Default()
	cfg.DataDir, cfg.Addr = t.TempDir(), addr
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	base := "http://" + addr
	waitReady(t, base)

	creds, _ := admin.ReadCredentials(srv.CredentialsPath())
	ac := adminclient.New(context.Background(), base, creds)
	call := func(method, path string, in, out any) {
		if err := ac.Do(context.Background(), method, path, in, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	call("POST", "/admin/v1/tenants", map[string]string{"id": "acme"}, nil)
	call("POST", "/admin/v1/apis", map[string]any{"audience": platform, "signing_alg": "EdDSA"}, nil)
	var c admin.ClientView
	call("POST", "/admin/v1/clients", map[string]any{"name": "n", "tenant": "acme", "grants": map[string][]string{platform: {}}}, &c)
	call("POST", "/admin/v1/clients/"+c.ClientID+"/disable", nil, nil)
	call("POST", "/admin/v1/clients/"+c.ClientID+"/enable", nil, nil)

	const n = 300
	for i := 0; i < n; i++ {
		resp, err := http.PostForm(base+"/oauth/token", url.Values{"grant_type": {"client_credentials"},
			"client_id": {c.ClientID}, "client_secret": {c.ClientSecret}, "audience": {platform}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("token %d: got %d", i, resp.StatusCode)
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}

	st, err := sqlstore.Open(context.Background(), sqlstore.SQLitePath(cfg.DataDir))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	issued, err := st.ListAudit(context.Background(), store.AuditFilter{Kind: store.AuditTokenIssued, ClientID: c.ClientID})
	if err != nil {
		t.Fatal(err)
	}
	if len(issued) != n {
		t.Fatalf("got %d issuance events after shutdown, want %d", len(issued), n)
	}
	var detail map[string]any
	json.Unmarshal([]byte(issued[0].Detail), &detail)
	for _, k := range []string{"audience", "scope", "jti", "exp", "source"} {
		if _, ok := detail[k]; !ok {
			t.Errorf("issuance detail lacks %s: %s", k, issued[0].Detail)
		}
	}
	all, _ := st.ListAudit(context.Background(), store.AuditFilter{})
	kinds := map[string]string{}
	for _, e := range all {
		kinds[e.Kind] = e.Actor
		if strings.Contains(e.Detail, c.ClientSecret) || strings.Contains(e.Detail, "sha256:") {
			t.Errorf("an audit event holds a secret or its hash: %s", e.Kind)
		}
	}
	for _, k := range []string{"tenant.create", "api.create", "client.create", "client.disable", "client.enable"} {
		if kinds[k] != creds.ClientID {
			t.Errorf("admin change %s: recorded actor %q, want the admin client %s", k, kinds[k], creds.ClientID)
		}
	}
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never became ready", base)
}

func TestAuditAPIAndMetrics(t *testing.T) {
	h := start(t, func(c *config.Config) {
		c.LegacyHosts = []string{"old.example"}
		c.LegacySunset = "2027-01-01"
	})
	h.seedCatalog()
	c := h.newClient(admin.ClientInput{Name: ptr("m"), Tenant: "acme", Grants: &map[string][]string{platform: {}}})
	for i := 0; i < 3; i++ {
		h.tokenStatus(c, c.ClientSecret)
	}
	h.tokenStatus(c, "gatehouse_wrong")
	h.postHost("old.example", "application/x-www-form-urlencoded", form("grant_type", "client_credentials", "client_id", c.ClientID, "client_secret", c.ClientSecret, "audience", platform))
	if err := h.srv.audit.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var events []store.AuditEvent
	h.do("GET", "/admin/v1/audit?client="+c.ClientID+"&kind=token.issued", nil, &events)
	if len(events) != 4 {
		t.Errorf("GET /admin/v1/audit: got %d issuance events for the client, want 4", len(events))
	}
	h.do("GET", "/admin/v1/audit?since="+url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339)), nil, &events)
	if len(events) != 0 {
		t.Errorf("since an hour ahead: got %d events, want 0", len(events))
	}

	resp, err := http.Get(h.ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(body)
	for _, want := range []string{
		`gatehouse_tokens_issued_total{audience="https://api.sitecorecloud.io",tenant="acme"} 4`,
		`gatehouse_token_errors_total{error="invalid_client"} 1`,
		`gatehouse_legacy_host_requests_total{host="old.example"} 1`,
		`gatehouse_http_request_duration_seconds_count{code="2xx",route="token"} `,
		`gatehouse_http_request_duration_seconds_count{code="4xx",route="token"} 1`,
		`gatehouse_signing_key_age_seconds{alg="RS256"`,
		`gatehouse_audit_queue_length`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s\n%s", want, grepLines(text, "gatehouse_http_request_duration_seconds_count"))
		}
	}
}

func grepLines(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
