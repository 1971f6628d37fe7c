package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/config"
)

// TestRestartKeepsEverything restarts on the same data dir: tenants,
// environments, APIs, clients (with their secrets) and keys are all there,
// and tokens issued before the restart still verify.
func TestRestartKeepsEverything(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	fixedIssuer := func(c *config.Config) { c.Issuer = "https://auth.example.test" }
	h := startWith(t, cfg, fixedIssuer)
	h.seedCatalog()
	c := h.newClient(admin.ClientInput{Name: ptr("keeper"), Tenant: "acme", Environment: "qa",
		Grants: &map[string][]string{"https://api.sitecorecloud.io": {"cdp.audience_exports:r"}}})
	tok := h.token(c, "https://api.sitecorecloud.io")
	kek, _ := os.ReadFile(filepath.Join(cfg.DataDir, "kek"))
	creds, _ := admin.ReadCredentials(filepath.Join(cfg.DataDir, "admin-client.json"))
	var keysBefore []admin.KeyView
	h.do("GET", "/admin/v1/keys", nil, &keysBefore)
	h.stop()

	h2 := startWith(t, cfg, fixedIssuer)
	h2.secrets = append(h2.secrets, c.ClientSecret)
	kek2, _ := os.ReadFile(filepath.Join(cfg.DataDir, "kek"))
	creds2, _ := admin.ReadCredentials(filepath.Join(cfg.DataDir, "admin-client.json"))
	if string(kek) != string(kek2) || creds.ClientID != creds2.ClientID || creds.ClientSecret != creds2.ClientSecret {
		t.Errorf("the restart rewrote the kek or the admin credentials")
	}
	if creds2.TokenURL != h2.ts.URL+"/oauth/token" {
		t.Errorf("token_url: got %s, want the new listener %s", creds2.TokenURL, h2.ts.URL)
	}
	var tenants []map[string]any
	h2.do("GET", "/admin/v1/tenants", nil, &tenants)
	var envs []map[string]any
	h2.do("GET", "/admin/v1/environments?tenant=acme", nil, &envs)
	var apis []admin.APIView
	h2.do("GET", "/admin/v1/apis", nil, &apis)
	var keysAfter []admin.KeyView
	h2.do("GET", "/admin/v1/keys", nil, &keysAfter)
	if len(tenants) != 2 || len(envs) != 1 || len(apis) != 4 {
		t.Errorf("after restart: %d tenants, %d environments, %d APIs; want 2, 1, 4 (with the two built-in APIs)", len(tenants), len(envs), len(apis))
	}
	if len(keysAfter) != len(keysBefore) || len(keysAfter) != 3 {
		t.Errorf("keys: %d before, %d after; want 3 and 3", len(keysBefore), len(keysAfter))
	}
	for i := range keysBefore {
		if i < len(keysAfter) && keysBefore[i].KID != keysAfter[i].KID {
			t.Errorf("key %d: kid %s became %s", i, keysBefore[i].KID, keysAfter[i].KID)
		}
	}
	h2.verified(tok, "https://api.sitecorecloud.io")
	tok2 := h2.token(c, "https://api.sitecorecloud.io")
	if _, claims := h2.verified(tok2, "https://api.sitecorecloud.io"); claims["environment"] != "qa" {
		t.Errorf("environment claim after restart: got %v, want qa", claims["environment"])
	}
}

// TestWrongKEK starts on a data dir whose keys were sealed with another
// KEK: a clear error at start, not a crash, and nothing is overwritten.
func TestWrongKEK(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	h := startWith(t, cfg, nil)
	h.stop()

	other := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32)))
	for _, tt := range []struct {
		name string
		kek  string
		want string
	}{
		{"another key", other, "key-encryption key"},
		{"not base64", "%%%", "not base64"},
		{"too short", base64.StdEncoding.EncodeToString([]byte("short")), "32 random bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := cfg
			c.Addr = "127.0.0.1:0"
			c.KEK = tt.kek
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			srv, err := New(context.Background(), c, log, Options{})
			if err == nil {
				srv.Close()
				t.Fatal("started with the wrong KEK")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error: got %q, want it to mention %q", err, tt.want)
			}
		})
	}
	// The right KEK still opens everything.
	h2 := startWith(t, cfg, nil)
	var ks []admin.KeyView
	h2.do("GET", "/admin/v1/keys", nil, &ks)
	if len(ks) != 3 {
		t.Errorf("got %d keys after the failed starts, want the original 3", len(ks))
	}
}

// token gets an access token for c by a form post and fails on error.
func (h *harness) token(c admin.ClientView, audience string) string {
	h.t.Helper()
	status, _, body := h.post("/oauth/token", "application/x-www-form-urlencoded",
		form("grant_type", "client_credentials", "client_id", c.ClientID, "client_secret", c.ClientSecret, "audience", audience), nil)
	if status != 200 {
		h.t.Fatalf("token: got %d %s", status, body)
	}
	var resp tokenResponse
	json.Unmarshal(body, &resp)
	h.secrets = append(h.secrets, resp.AccessToken)
	return resp.AccessToken
}
