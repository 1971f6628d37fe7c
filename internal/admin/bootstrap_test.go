package admin

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/secret"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

// TestBootstrap: the first start of an empty store creates the built-in
// APIs and one admin client whose credentials go to a 0600 file; later
// starts create nothing and only keep the file's token_url current.
func TestBootstrap(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	st, err := sqlstore.Open(ctx, sqlstore.SQLitePath(dir))
	must(t, err)
	t.Cleanup(func() { st.Close() })
	path := filepath.Join(dir, "admin-client.json")

	created, err := Bootstrap(ctx, st, path, "http://127.0.0.1:8080/oauth/token", t0)
	if err != nil || !created {
		t.Fatalf("first Bootstrap: got created %v, %v; want true, nil", created, err)
	}
	for aud, scopes := range map[string][]string{
		store.AdminAudience:      {store.ScopeRead, store.ScopeWrite},
		store.IntrospectAudience: {store.ScopeIntrospect},
	} {
		a, err := st.GetAPI(ctx, aud)
		if err != nil || !a.BuiltIn || !slices.Equal(store.ScopeNames(a.Scopes), scopes) {
			t.Errorf("built-in API %s: got %+v, %v; want built in with scopes %v", aud, a, err, scopes)
		}
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: got %v, %v; want mode 0600", info, err)
	}
	creds, err := ReadCredentials(path)
	must(t, err)
	if creds.Audience != store.AdminAudience || creds.TokenURL != "http://127.0.0.1:8080/oauth/token" || !strings.HasPrefix(creds.ClientSecret, secret.Prefix) {
		t.Errorf("credentials: got audience %q token_url %q, want the admin audience and the token URL", creds.Audience, creds.TokenURL)
	}
	c, err := st.GetClient(ctx, creds.ClientID)
	must(t, err)
	if !slices.Equal(c.Grants[store.AdminAudience], []string{store.ScopeRead, store.ScopeWrite}) || len(c.Secrets) != 1 ||
		strings.Contains(c.Secrets[0].Hash, creds.ClientSecret) || !secret.NewChecker().Check(ctx, c.Secrets, creds.ClientSecret, t0) {
		t.Errorf("bootstrap client: got %+v, want admin:read and admin:write and a hash of the file's secret", c)
	}

	t.Run("a later start creates nothing and follows the listener", func(t *testing.T) {
		created, err := Bootstrap(ctx, st, path, "http://10.0.0.7:9090/oauth/token", t0)
		if err != nil || created {
			t.Fatalf("got created %v, %v; want false, nil", created, err)
		}
		again, err := ReadCredentials(path)
		must(t, err)
		if again.ClientID != creds.ClientID || again.ClientSecret != creds.ClientSecret || again.TokenURL != "http://10.0.0.7:9090/oauth/token" {
			t.Errorf("credentials: got %s at %s, want %s at the new token URL", again.ClientID, again.TokenURL, creds.ClientID)
		}
		if cs, _ := st.ListClients(ctx); len(cs) != 1 {
			t.Errorf("clients: got %d, want 1", len(cs))
		}
	})
	t.Run("a missing file is not remade while an admin client exists", func(t *testing.T) {
		must(t, os.Remove(path))
		created, err := Bootstrap(ctx, st, path, "http://127.0.0.1:8080/oauth/token", t0)
		if _, statErr := os.Stat(path); err != nil || created || !os.IsNotExist(statErr) {
			t.Errorf("got created %v, %v, file %v; want false, nil, no file", created, err, statErr)
		}
	})
}

func TestReadCredentials(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string
		wantErr       string
	}{
		{"complete", `{"client_id":"a","client_secret":"s","token_url":"http://x/oauth/token"}`, ""},
		{"no secret", `{"client_id":"a","token_url":"http://x/oauth/token"}`, "lacks"},
		{"not JSON", `client_id=a`, "not a credentials file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".json")
			must(t, os.WriteFile(path, []byte(tt.content), 0o600))
			c, err := ReadCredentials(path)
			if tt.wantErr == "" {
				if err != nil || c.Audience != store.AdminAudience {
					t.Errorf("got %+v, %v; want the admin audience by default", c, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %v, want an error mentioning %q", err, tt.wantErr)
			}
		})
	}
}
