package console

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/store"
)

func ptr[T any](v T) *T { return &v }

// newJWKS returns a JWK Set of one new EC key, kid, as JSON: its public
// half, or the whole key pair when private.
func newJWKS(t *testing.T, kid string, private bool) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: key.Public(), KeyID: kid, Algorithm: "ES256", Use: "sig"}
	if private {
		jwk.Key = key
	}
	doc, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}})
	if err != nil {
		t.Fatal(err)
	}
	return string(doc)
}

// clientNamed returns the stored client with this name.
func (e *env) clientNamed(name string) store.Client {
	e.t.Helper()
	cs, _ := e.store.ListClients(e.t.Context())
	i := slices.IndexFunc(cs, func(c store.Client) bool { return c.Name == name })
	if i < 0 {
		e.t.Fatalf("no client named %q was stored", name)
	}
	return cs[i]
}

// TestCreateClientWithoutSecret: the create form registers keys, a URL or
// a certificate name; such a client gets no secret, and its page says how
// it authenticates.
func TestCreateClientWithoutSecret(t *testing.T) {
	e := newEnv(t, nil)
	e.seed()
	b := e.signedIn(e.admin)
	keys := newJWKS(t, "ci-key-1", false)
	tests := []struct {
		name  string
		form  url.Values
		want  store.ClientAuth
		shown []string
	}{
		{"signed JWT, pasted keys, DPoP", url.Values{"auth_method": {"private_key_jwt"}, "jwks": {keys}, "require_dpop": {"on"}},
			store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: keys, RequireDPoP: true},
			[]string{"Signed JWT (private_key_jwt)", `<dd id="auth-keys"><code>ci-key-1</code>`, `<span class="badge on">required</span>`}},
		{"signed JWT, keys at a URL", url.Values{"auth_method": {"private_key_jwt"}, "jwks_uri": {"https://ci.acme.test/jwks.json"}, "tls_subject_kind": {"dn"}},
			store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKSURI: "https://ci.acme.test/jwks.json"},
			[]string{`<dd id="auth-jwks-uri"><code>https://ci.acme.test/jwks.json</code>`, "not required"}},
		{"certificate from the client CA", url.Values{"auth_method": {"tls_client_auth"}, "tls_subject_kind": {"uri"}, "tls_subject": {"spiffe://acme.test/ci"}},
			store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: "uri", TLSSubject: "spiffe://acme.test/ci"},
			[]string{"Certificate from the client CA (tls_client_auth)", `<dd id="auth-subject">SAN URI (e.g. a SPIFFE ID): <code>spiffe://acme.test/ci</code>`}},
		{"self-signed certificate", url.Values{"auth_method": {"self_signed_tls_client_auth"}, "jwks": {keys}},
			store.ClientAuth{Method: store.AuthSelfSignedTLS, JWKS: keys}, []string{"Self-signed certificate", "ci-key-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := with(goodClient, "name", tt.name)
			for k, v := range tt.form {
				form[k] = v
			}
			a := b.post("/console/clients/new", "/console/clients/new", form)
			c := e.clientNamed(tt.name)
			if a.status != http.StatusSeeOther || a.header.Get("Location") != "/console/clients/"+c.ID+"?done=created" {
				t.Fatalf("got status %d to %q, want 303 to the client's page\n%s", a.status, a.header.Get("Location"), a.body)
			}
			if c.Auth != tt.want || len(c.Secrets) != 0 {
				t.Errorf("stored: got %+v and %d secrets, want %+v and none", c.Auth, len(c.Secrets), tt.want)
			}
			page := b.get(a.header.Get("Location"))
			if !strings.Contains(page.body, "so it has no secret to copy") {
				t.Errorf("the client page does not say that there is no secret")
			}
			for _, want := range tt.shown {
				if !strings.Contains(page.body, want) {
					t.Errorf("the client page lacks %q", want)
				}
			}
			for _, not := range []string{"Rotate the secret", "<h2>Secrets</h2>", `id="client-secret"`} {
				if strings.Contains(page.body, not) {
					t.Errorf("the page of a client without a secret shows %q", not)
				}
			}
		})
	}
}

// TestClientAuthErrorsNextToField: what Service refuses in the
// authentication fields is shown next to the field, on both forms, and
// the form keeps what was typed.
func TestClientAuthErrorsNextToField(t *testing.T) {
	e := newEnv(t, nil)
	e.seed()
	b := e.signedIn(e.admin)
	leaked := newJWKS(t, "leaked", true)
	page, action := "/console/clients/"+e.plain.ClientID, "/console/clients/"+e.plain.ClientID+"/auth"
	for _, tc := range []struct {
		name, page, action string
		form               url.Values
		field, want        string
	}{
		{"a private key", "/console/clients/new", "/console/clients/new", with(goodClient, "auth_method", "private_key_jwt", "jwks", leaked), "jwks", "holds private key material"},
		{"an HMAC key", "/console/clients/new", "/console/clients/new",
			with(goodClient, "auth_method", "private_key_jwt", "jwks", `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`), "jwks", "symmetric key"},
		{"no keys", "/console/clients/new", "/console/clients/new", with(goodClient, "auth_method", "private_key_jwt"), "jwks", "The JWKS or the JWKS URL is required"},
		{"an http URL", "/console/clients/new", "/console/clients/new", with(goodClient, "auth_method", "private_key_jwt", "jwks_uri", "http://ci.acme.test/jwks"), "jwks_uri", "https"},
		{"a bad DN", "/console/clients/new", "/console/clients/new", with(goodClient, "auth_method", "tls_client_auth", "tls_subject_kind", "dn", "tls_subject", "CN=a,,O=b"), "tls_subject", "is not a valid subject DN"},
		{"an unknown kind", "/console/clients/new", "/console/clients/new", with(goodClient, "auth_method", "tls_client_auth", "tls_subject_kind", "ip", "tls_subject", "10.0.0.1"), "tls_subject_kind", "not one of dn, dns, uri, email"},
		{"keys on a secret client", "/console/clients/new", "/console/clients/new", with(goodClient, "jwks", newJWKS(t, "k", false)), "jwks", "not client_secret"},
		{"an unknown method", page, action, url.Values{"auth_method": {"magic"}}, "auth_method", "The authentication method &#34;magic&#34; is not one of"},
		{"a subject with keys left in", page, action, url.Values{"auth_method": {"tls_client_auth"}, "tls_subject_kind": {"dns"}, "tls_subject": {"ci.acme.test"}, "jwks": {newJWKS(t, "k", false)}},
			"jwks", "not tls_client_auth: remove it"},
		{"no subject", page, action, url.Values{"auth_method": {"tls_client_auth"}, "tls_subject_kind": {"dns"}}, "tls_subject", "The TLS subject is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.changes()
			a := b.post(tc.page, tc.action, tc.form)
			if a.status != http.StatusBadRequest {
				t.Fatalf("got status %d, want 400\n%s", a.status, a.body)
			}
			if got := fieldError(a.body, tc.field); !strings.Contains(got, tc.want) {
				t.Errorf("got error %q next to %s, want one containing %q", got, tc.field, tc.want)
			}
			if got := e.changes(); len(got) != len(before) {
				t.Errorf("a refused form changed something: %v", got[len(before):])
			}
			if v := tc.form.Get("jwks"); v != "" && !strings.Contains(html.UnescapeString(a.body), v) {
				t.Errorf("the form lost the pasted JWKS")
			}
			if m := tc.form.Get("auth_method"); m != "" && m != "magic" && !strings.Contains(a.body, `<option value="`+m+`" selected>`) {
				t.Errorf("the form lost the chosen method %s", m)
			}
		})
	}
	if c, _ := e.store.GetClient(t.Context(), e.plain.ClientID); c.Auth != (store.ClientAuth{}) || len(c.Secrets) != 1 {
		t.Errorf("refused changes changed the client: got %+v and %d secrets", c.Auth, len(c.Secrets))
	}
}

// TestChangeClientAuth: the client page moves a client to keys (its
// secret goes), to a certificate, and back to a secret, which it holds
// only once one is rotated in.
func TestChangeClientAuth(t *testing.T) {
	e := newEnv(t, nil)
	e.seed()
	b := e.signedIn(e.admin)
	c, secret, _ := e.createClient(b, url.Values{"name": {"moving"}, "tenant": {"acme"}, "grant": {"https://api.acme.test orders:read"}})
	page, action := "/console/clients/"+c.ID, "/console/clients/"+c.ID+"/auth"
	keys := newJWKS(t, "k-2026", false)

	steps := []struct {
		name    string
		form    url.Values
		want    store.ClientAuth
		secrets int
		shown   []string
	}{
		{"to a signed JWT", url.Values{"auth_method": {"private_key_jwt"}, "jwks": {keys}, "tls_subject_kind": {"dn"}},
			store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: keys}, 0, []string{"<code>k-2026</code>", "Authentication saved"}},
		{"DPoP on, keys as shown", url.Values{"auth_method": {"private_key_jwt"}, "jwks": {"indented"}, "require_dpop": {"on"}},
			store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: keys, RequireDPoP: true}, 0, []string{`<span class="badge on">required</span>`}},
		{"to a certificate", url.Values{"auth_method": {"tls_client_auth"}, "tls_subject_kind": {"dns"}, "tls_subject": {"CI.acme.test"}},
			store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: "dns", TLSSubject: "ci.acme.test"}, 0, []string{"SAN DNS name: <code>ci.acme.test</code>", "not required"}},
		{"back to a secret", url.Values{"auth_method": {"client_secret"}, "tls_subject_kind": {"dns"}},
			store.ClientAuth{}, 0, []string{"This client holds no secret", "Rotate the secret"}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.form.Get("jwks") == "indented" { // post back the keys as the page shows them
				m := regexp.MustCompile(`(?s)<textarea id="jwks" name="jwks"[^>]*>(.*?)</textarea>`).FindStringSubmatch(b.get(page).body)
				if m == nil || !strings.Contains(m[1], "\n") {
					t.Fatalf("got no indented JWKS in the page's form")
				}
				s.form.Set("jwks", html.UnescapeString(m[1]))
			}
			a := b.post(page, action, s.form)
			if a.status != http.StatusSeeOther {
				t.Fatalf("got status %d, want 303\n%s", a.status, a.body)
			}
			got, _ := e.store.GetClient(t.Context(), c.ID)
			if got.Auth != s.want || len(got.Secrets) != s.secrets {
				t.Errorf("stored: got %+v and %d secrets, want %+v and %d", got.Auth, len(got.Secrets), s.want, s.secrets)
			}
			body := b.get(a.header.Get("Location")).body
			for _, want := range s.shown {
				if !strings.Contains(body, want) {
					t.Errorf("the client page lacks %q", want)
				}
			}
		})
	}
	t.Run("rotate-secret while on keys", func(t *testing.T) {
		_, err := e.h.service.UpdateClient(t.Context(), c.ID, admin.ClientPatch{AuthMethod: ptr(store.AuthPrivateKeyJWT), JWKS: &keys})
		if err != nil {
			t.Fatal(err)
		}
		a := b.post(page, "/console/clients/"+c.ID+"/rotate", url.Values{"keep_old": {"0"}})
		if a.status != http.StatusBadRequest || !strings.Contains(a.body, `<p class="alert" role="alert">Client `+c.ID+` authenticates with private_key_jwt and holds no secret`) {
			t.Errorf("got status %d, want 400 saying the client has no secret\n%s", a.status, a.body)
		}
		if _, err := e.h.service.UpdateClient(t.Context(), c.ID, admin.ClientPatch{AuthMethod: ptr(store.AuthSecret)}); err != nil {
			t.Fatal(err)
		}
	})
	if e.authenticates(c.ID, secret) {
		t.Errorf("the old secret still works after the client moved to keys and back")
	}
	a := b.post(page, "/console/clients/"+c.ID+"/rotate", url.Values{"keep_old": {"0"}})
	m := secretRE.FindStringSubmatch(a.body)
	if a.status != http.StatusOK || m == nil || !e.authenticates(c.ID, m[1]) {
		t.Fatalf("rotate after moving back: got status %d, want a new secret that works", a.status)
	}
	var kinds []string
	for _, ch := range e.changes() {
		if ch.target == c.ID {
			kinds = append(kinds, ch.kind)
		}
	}
	want := []string{"client.create", "client.update", "client.update", "client.update", "client.update", "client.update", "client.update", "client.rotate_secret"}
	if !slices.Equal(kinds, want) {
		t.Errorf("got changes %v, want %v", kinds, want)
	}
}
