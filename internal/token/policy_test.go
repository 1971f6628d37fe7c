package token

import (
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// policyClients are the clients the policy tables ask for.
type policyClients struct {
	org      cred // organization-wide, every API, the platform's legacy scope since dropped
	site     cred // environment qa, a lifetime cap longer than any API's
	capped   cred // a 15-minute lifetime cap
	bare     cred // a grant on the platform without scopes
	stranger cred // tenant other, the delivery template
	noStream cred // environment qa, no grant on the streaming APIs
}

func newPolicyClients(w *world) policyClients {
	all := map[string][]string{platform: {"read", "write", "legacy"}, delivery: {"delivery:read"}, property: {"property:write"}, catalogue: {"catalog:write"}}
	pc := policyClients{
		org: w.client(admin.NewClient{Grants: all}),
		site: w.client(admin.NewClient{Environment: "qa", TokenTTL: 48 * time.Hour,
			Grants: map[string][]string{platform: {"read"}, property: {"property:write"}, catalogue: {"catalog:write"}}}),
		capped:   w.client(admin.NewClient{TokenTTL: 15 * time.Minute, Grants: map[string][]string{platform: {"read"}}}),
		bare:     w.client(admin.NewClient{Grants: map[string][]string{platform: {}}}),
		stranger: w.client(admin.NewClient{Tenant: "other", Grants: map[string][]string{delivery: {"delivery:read"}}}),
		noStream: w.client(admin.NewClient{Environment: "qa", Grants: map[string][]string{platform: {"read"}}}),
	}
	// The API drops a scope a grant still names.
	if _, err := w.admin.UpdateAPI(w.t.Context(), platform, admin.APIPatch{Scopes: &[]store.Scope{{Name: "read"}, {Name: "write"}}}); err != nil {
		w.t.Fatal(err)
	}
	return pc
}

// policyCase is one request and what the policy must make of it: a grant,
// or an error (status, code, and words its description holds).
type policyCase struct {
	name   string
	client cred
	params []string
	aud    string
	scopes []string
	ttl    time.Duration
	status int
	code   string
	desc   string
}

func (c policyCase) check(t *testing.T, g *Grant, err error) {
	t.Helper()
	if c.code != "" {
		wantError(t, err, c.status, c.code, c.desc)
		return
	}
	if err != nil {
		t.Fatalf("got %v, want a grant", err)
	}
	if g.Audience != c.aud || !slices.Equal(g.Scopes, c.scopes) || g.TTL != c.ttl {
		t.Errorf("got audience %q scopes %q ttl %v, want %q %q %v", g.Audience, g.Scopes, g.TTL, c.aud, c.scopes, c.ttl)
	}
}

func TestAuthorize(t *testing.T) {
	w := newWorld(t)
	pc := newPolicyClients(w)
	const day = 24 * time.Hour
	acme := "https://delivery.example.io/acme"
	rw := []string{"read", "write"}
	cases := []policyCase{
		{name: "scope absent: every granted scope the API still has", client: pc.org, params: []string{"audience", platform}, aud: platform, scopes: rw, ttl: day},
		{name: "empty scope is absent", client: pc.org, params: []string{"audience", platform, "scope", ""}, aud: platform, scopes: rw, ttl: day},
		{name: "blank scope is absent", client: pc.org, params: []string{"audience", platform, "scope", "  "}, aud: platform, scopes: rw, ttl: day},
		{name: "a subset", client: pc.org, params: []string{"audience", platform, "scope", "write"}, aud: platform, scopes: []string{"write"}, ttl: day},
		{name: "scopes in the order asked", client: pc.org, params: []string{"audience", platform, "scope", "write read"}, aud: platform, scopes: []string{"write", "read"}, ttl: day},
		{name: "duplicate scopes collapsed", client: pc.org, params: []string{"audience", platform, "scope", "read  write read"}, aud: platform, scopes: rw, ttl: day},
		{name: "a grant without scopes", client: pc.bare, params: []string{"audience", platform}, aud: platform, scopes: nil, ttl: day},
		{name: "scope not granted", client: pc.site, params: []string{"audience", platform, "scope", "read write"}, status: 400, code: "invalid_scope", desc: `Scope "write" is not granted to this client for "https://api.example.io"`},
		{name: "unknown scope", client: pc.org, params: []string{"audience", platform, "scope", "delete"}, status: 400, code: "invalid_scope", desc: `"delete"`},
		{name: "a scope the API dropped", client: pc.org, params: []string{"audience", platform, "scope", "legacy"}, status: 400, code: "invalid_scope", desc: `"legacy"`},
		{name: "lifetime capped by the client", client: pc.capped, params: []string{"audience", platform}, aud: platform, scopes: []string{"read"}, ttl: 15 * time.Minute},
		{name: "a client cap never lengthens the API's", client: pc.site, params: []string{"audience", platform}, aud: platform, scopes: []string{"read"}, ttl: day},

		{name: "resource in place of audience", client: pc.org, params: []string{"resource", platform}, aud: platform, scopes: rw, ttl: day},
		{name: "audience and resource the same", client: pc.org, params: []string{"audience", platform, "resource", platform}, aud: platform, scopes: rw, ttl: day},
		{name: "audience and resource differ", client: pc.org, params: []string{"audience", platform, "resource", "https://other.example"}, status: 400, code: "invalid_request", desc: "different"},
		{name: "resource without a scheme", client: pc.org, params: []string{"resource", "api.example.io"}, status: 400, code: "invalid_target", desc: "RFC 8707"},
		{name: "resource a relative path", client: pc.org, params: []string{"resource", "/v1/things"}, status: 400, code: "invalid_target", desc: "absolute"},
		{name: "resource with a fragment", client: pc.org, params: []string{"resource", platform + "#part"}, status: 400, code: "invalid_target", desc: "fragment"},
		{name: "resource unparsable", client: pc.org, params: []string{"resource", "https://%zz"}, status: 400, code: "invalid_target", desc: "absolute"},
		{name: "no audience and no default", client: pc.org, status: 400, code: "invalid_request", desc: "audience is required"},

		{name: "unknown audience, in the vendor's words", client: pc.org, params: []string{"audience", "https://nowhere.example"}, status: 403, code: "access_denied", desc: `Client is not authorized to access "https://nowhere.example".`},
		{name: "an audience without a grant", client: pc.capped, params: []string{"audience", acme}, status: 403, code: "access_denied", desc: `Client is not authorized to access "https://delivery.example.io/acme".`},

		{name: "template resolved to the client's tenant", client: pc.org, params: []string{"audience", acme}, aud: acme, scopes: []string{"delivery:read"}, ttl: day},
		{name: "template of another tenant", client: pc.org, params: []string{"audience", "https://delivery.example.io/other"}, status: 403, code: "access_denied", desc: `"https://delivery.example.io/other"`},
		{name: "the template itself is no audience", client: pc.org, params: []string{"audience", delivery}, status: 403, code: "access_denied", desc: `"https://delivery.example.io/{tenant}"`},
		{name: "template for the other tenant's client", client: pc.stranger, params: []string{"audience", "https://delivery.example.io/other"}, aud: "https://delivery.example.io/other", scopes: []string{"delivery:read"}, ttl: day},
		{name: "template resource", client: pc.org, params: []string{"resource", acme}, aud: acme, scopes: []string{"delivery:read"}, ttl: day},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := w.iss.Authorize(w.stored(c.client), withParams(oauth.TokenRequest{}, c.params...))
			c.check(t, g, err)
			if err == nil && g.Client != w.stored(c.client) {
				t.Errorf("the grant is for another client")
			}
		})
	}
	t.Run("the grant names the API, a template as stored", func(t *testing.T) {
		g, err := w.iss.Authorize(w.stored(pc.org), withParams(oauth.TokenRequest{}, "audience", acme))
		if err != nil || g.API.Audience != delivery || g.Service != "" || g.APIKey != "" {
			t.Errorf("got %+v, %v, want the delivery template API and no service binding", g, err)
		}
	})
}

func TestAuthorizeDefaultAudience(t *testing.T) {
	w := newWorld(t)
	pc := newPolicyClients(w)
	iss := w.issuer(Config{IssuerURL: issuerURL, DefaultAudience: platform})
	acme := "https://delivery.example.io/acme"
	cases := []policyCase{
		{name: "none named: the default", client: pc.org, aud: platform, scopes: []string{"read", "write"}, ttl: 24 * time.Hour},
		{name: "none named, scopes asked", client: pc.org, params: []string{"scope", "write"}, aud: platform, scopes: []string{"write"}, ttl: 24 * time.Hour},
		{name: "an audience named wins", client: pc.org, params: []string{"audience", acme}, aud: acme, scopes: []string{"delivery:read"}, ttl: 24 * time.Hour},
		{name: "a resource named wins", client: pc.org, params: []string{"resource", acme}, aud: acme, scopes: []string{"delivery:read"}, ttl: 24 * time.Hour},
		{name: "no grant on the default", client: pc.stranger, status: 403, code: "access_denied", desc: `Client is not authorized to access "https://api.example.io".`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := iss.Authorize(w.stored(c.client), withParams(oauth.TokenRequest{}, c.params...))
			c.check(t, g, err)
		})
	}
}

// TestAuthorizeService is the per-service endpoint's policy: the token is
// for the service's API only, and bound to the client's environment.
func TestAuthorizeService(t *testing.T) {
	w := newWorld(t)
	pc := newPolicyClients(w)
	api, ok := w.cat.Service("streaming-property")
	if !ok {
		t.Fatal("no service streaming-property in the catalog")
	}
	one := []string{"property:write"}
	cases := []policyCase{
		{name: "nothing named: the service's API", client: pc.site, aud: property, scopes: one, ttl: time.Hour},
		{name: "audience naming the service's API", client: pc.site, params: []string{"audience", property}, aud: property, scopes: one, ttl: time.Hour},
		{name: "resource naming the service's API", client: pc.site, params: []string{"resource", property}, aud: property, scopes: one, ttl: time.Hour},
		{name: "scope asked", client: pc.site, params: []string{"scope", "property:write"}, aud: property, scopes: one, ttl: time.Hour},
		{name: "another audience", client: pc.site, params: []string{"audience", catalogue}, status: 400, code: "invalid_target", desc: `for "https://streaming.example.io/property" only`},
		{name: "another resource", client: pc.site, params: []string{"resource", catalogue}, status: 400, code: "invalid_target", desc: "only"},
		{name: "the audience, and another resource", client: pc.site, params: []string{"audience", property, "resource", catalogue}, status: 400, code: "invalid_target", desc: "only"},
		{name: "the resource, and another audience", client: pc.site, params: []string{"audience", catalogue, "resource", property}, status: 400, code: "invalid_target", desc: "only"},
		{name: "an organization-wide client", client: pc.org, status: 403, code: "access_denied", desc: "only a client of an environment"},
		{name: "no grant on the service's API", client: pc.noStream, status: 403, code: "access_denied", desc: `"https://streaming.example.io/property"`},
		{name: "scope not granted", client: pc.site, params: []string{"scope", "catalog:write"}, status: 400, code: "invalid_scope", desc: `"catalog:write"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := w.iss.authorizeService(w.stored(c.client), api, withParams(oauth.TokenRequest{}, c.params...))
			c.check(t, g, err)
			if err == nil && (g.Service != "streaming-property" || g.APIKey != w.qa.APIKey) {
				t.Errorf("got service %q api_key %q, want streaming-property and qa's %q", g.Service, g.APIKey, w.qa.APIKey)
			}
		})
	}
	t.Run("a client whose environment is gone", func(t *testing.T) {
		gone := *w.stored(pc.site)
		gone.Environment = "gone"
		_, err := w.iss.authorizeService(&gone, api, oauth.TokenRequest{})
		wantError(t, err, 401, "invalid_client", "Client authentication failed.")
	})
}

func TestGrantedScopes(t *testing.T) {
	api := &store.API{Scopes: []store.Scope{{Name: "read"}, {Name: "write"}}}
	tests := []struct {
		name          string
		granted, want []string
		sharesGranted bool
	}{
		{"all still defined", []string{"read", "write"}, []string{"read", "write"}, true},
		{"one dropped", []string{"read", "legacy", "write"}, []string{"read", "write"}, false},
		{"the first dropped", []string{"legacy", "write"}, []string{"write"}, false},
		{"all dropped", []string{"legacy"}, []string{}, false},
		{"none granted", []string{}, []string{}, false},
		{"nil granted", nil, []string{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			granted := slices.Clone(tt.granted)
			got := grantedScopes(granted, api)
			if got == nil || !slices.Equal(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
			if cap(got) != len(got) && tt.sharesGranted {
				t.Errorf("got cap %d, want %d: an append must not write into the grant", cap(got), len(got))
			}
			_ = append(got, "extra")
			if !slices.Equal(granted, tt.granted) {
				t.Errorf("the grant changed: got %q, want %q", granted, tt.granted)
			}
		})
	}
}
