package token

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/store"
)

// TestIssuedJWT: what Token answers and what the JWT says agree: the
// vendor's claims, gty from the grant type, expires_in = exp - iat.
func TestIssuedJWT(t *testing.T) {
	w := newWorld(t)
	org := w.client(admin.NewClient{Grants: map[string][]string{platform: {"read", "write"}, delivery: {"delivery:read"}}})
	site := w.client(admin.NewClient{Environment: "qa", TokenTTL: 15 * time.Minute, Grants: map[string][]string{catalogue: {"catalog:write"}}})
	cases := []struct {
		name, service, aud string
		c                  cred
		params             []string
		env, svc, apiKey   string
		expiresIn          int64
	}{
		{name: "organization client", c: org, params: []string{"audience", platform}, aud: platform, expiresIn: 86400},
		{name: "template audience", c: org, params: []string{"audience", "https://delivery.example.io/acme"}, aud: "https://delivery.example.io/acme", expiresIn: 86400},
		{name: "per-service, environment client", c: site, service: "streaming-catalog", aud: catalogue, env: "qa", svc: "streaming-catalog", apiKey: w.qa.APIKey, expiresIn: 900},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := issue(t, w.iss, tc.c.req(tc.params...), tc.service)
			r := out.Response
			if r.TokenType != "Bearer" || r.ExpiresIn != tc.expiresIn || r.Scope != strings.Join(out.Grant.Scopes, " ") {
				t.Errorf("got %+v, want Bearer, expires_in %d and the grant's scopes", r, tc.expiresIn)
			}
			claims, err := verifierFor(t, w.iss, tc.aud, w.clock.Now()).Verify(t.Context(), r.AccessToken)
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if got := int64(claims.Expiry.Sub(claims.IssuedAt) / time.Second); got != r.ExpiresIn {
				t.Errorf("exp - iat = %d, expires_in = %d: want equal", got, r.ExpiresIn)
			}
			want := map[string]any{
				"iss": issuerURL, "sub": tc.c.id + "@clients", "aud": tc.aud, "client_id": tc.c.id, "azp": tc.c.id,
				"scope": r.Scope, "gty": "client-credentials", "tenant": "acme", "jti": out.Grant.JTI,
			}
			for k, v := range want {
				if claims.Raw[k] != v {
					t.Errorf("claim %s: got %v, want %v", k, claims.Raw[k], v)
				}
			}
			if claims.Environment != tc.env || claims.Service != tc.svc || claims.APIKey != tc.apiKey {
				t.Errorf("environment, service, api_key: got %q %q %q, want %q %q %q", claims.Environment, claims.Service, claims.APIKey, tc.env, tc.svc, tc.apiKey)
			}
			if out.Grant.Type != "client-credentials" || !out.Grant.IssuedAt.Equal(claims.IssuedAt) {
				t.Errorf("the outcome's grant: got type %q issued %v, want client-credentials at %v", out.Grant.Type, out.Grant.IssuedAt, claims.IssuedAt)
			}
		})
	}
}

var opaqueRE = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)

// TestOpaqueTokenStoredAsHash: an opaque token is 32 characters of
// [A-Za-z0-9]; the store keeps its hash and what it grants, never the
// token itself, anywhere in the database files.
func TestOpaqueTokenStoredAsHash(t *testing.T) {
	w := newWorld(t)
	site := w.client(admin.NewClient{Environment: "qa", Grants: map[string][]string{property: {"property:write"}}})
	out := issue(t, w.iss, site.req(), "streaming-property")
	tok := out.Response.AccessToken
	if !opaqueRE.MatchString(tok) || out.Response.ExpiresIn != 3600 || out.Response.Scope != "property:write" {
		t.Fatalf("got %+v, want a 32-character opaque token for an hour", out.Response)
	}
	got, err := w.st.GetOpaqueToken(t.Context(), HashOpaque(tok))
	if err != nil {
		t.Fatalf("the stored token by its hash: %v", err)
	}
	want := store.OpaqueToken{Hash: HashOpaque(tok), ClientID: site.id, Audience: property, Scopes: []string{"property:write"},
		Tenant: "acme", Environment: "qa", Service: "streaming-property", JTI: out.Grant.JTI}
	got.IssuedAt, got.ExpiresAt = time.Time{}, time.Time{}
	if got.Hash != want.Hash || got.ClientID != want.ClientID || got.Audience != want.Audience || strings.Join(got.Scopes, " ") != "property:write" ||
		got.Tenant != want.Tenant || got.Environment != want.Environment || got.Service != want.Service || got.JTI != want.JTI {
		t.Errorf("stored:\ngot  %+v\nwant %+v", got, want)
	}
	if _, err := w.st.GetOpaqueToken(t.Context(), tok); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("looking up the token itself: got %v, want ErrNotFound", err)
	}
	w.st.Close() // flush the write-ahead log into the files read below
	filepath.WalkDir(w.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), tok) {
			t.Errorf("%s holds the opaque token in the clear", filepath.Base(path))
		}
		return nil
	})
}

// TestReuseWindow: within an API's reuse window a client asking again for
// the same grant gets the token it holds, with its remaining lifetime;
// never one that was revoked.
func TestReuseWindow(t *testing.T) {
	w := newWorld(t)
	window := time.Minute
	if _, err := w.admin.UpdateAPI(t.Context(), platform, admin.APIPatch{ReuseWindow: &window}); err != nil {
		t.Fatal(err)
	}
	c := w.client(admin.NewClient{Grants: map[string][]string{platform: {"read", "write"}}})
	ask := func(kv ...string) Response {
		return issue(t, w.iss, c.req(append([]string{"audience", platform}, kv...)...), "").Response
	}
	first := ask()
	w.clock.Add(30 * time.Second)
	if again := ask(); again.AccessToken != first.AccessToken || again.ExpiresIn != first.ExpiresIn-30 {
		t.Errorf("within the window: got another token or expires_in %d, want the same with %d", again.ExpiresIn, first.ExpiresIn-30)
	}
	if empty := ask("scope", ""); empty.AccessToken != first.AccessToken {
		t.Errorf("an empty scope asks for the same grant: got another token")
	}
	if narrow := ask("scope", "read"); narrow.AccessToken == first.AccessToken {
		t.Errorf("a narrower scope got the wider token")
	}
	w.clock.Add(31 * time.Second)
	third := ask()
	if third.AccessToken == first.AccessToken || third.ExpiresIn != 86400 {
		t.Errorf("after the window: got the old token or expires_in %d, want a fresh one", third.ExpiresIn)
	}
	if err := w.iss.Revoke(t.Context(), c.req("token", third.AccessToken), addr); err != nil {
		t.Fatal(err)
	}
	if after := ask(); after.AccessToken == third.AccessToken {
		t.Errorf("after revocation the reuse window handed back the revoked token")
	}
}
