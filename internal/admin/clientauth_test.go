package admin

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/secret"
	"github.com/gatehouse/gatehouse/internal/store"
)

// testKeys are key pairs made once for every test of this package.
var testKeys = sync.OnceValue(func() (k struct {
	ec      *ecdsa.PrivateKey
	ed      ed25519.PrivateKey
	rsa     *rsa.PrivateKey
	rsaWeak *rsa.PrivateKey
}) {
	k.ec, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, k.ed, _ = ed25519.GenerateKey(rand.Reader)
	k.rsa, _ = rsa.GenerateKey(rand.Reader, 2048)
	k.rsaWeak, _ = rsa.GenerateKey(rand.Reader, 1024)
	return k
})

// jwk writes key as one JWK with kid (and alg and use, when set).
func jwk(t *testing.T, key crypto.PublicKey, kid, alg, use string) json.RawMessage {
	t.Helper()
	b, err := jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: alg, Use: use}.MarshalJSON()
	must(t, err)
	return b
}

// jwksOf writes a JWK Set of the given keys.
func jwksOf(keys ...json.RawMessage) string {
	b, _ := json.Marshal(map[string][]json.RawMessage{"keys": keys})
	return string(b)
}

// publicJWKS is a set of one EC signing key, kid "ec-1".
func publicJWKS(t *testing.T) string {
	return jwksOf(jwk(t, testKeys().ec.Public(), "ec-1", "ES256", "sig"))
}

// checkField fails t unless err is ErrInvalid and its message starts
// with field: each message names the field at fault.
func checkField(t *testing.T, err error, field, mention string) {
	t.Helper()
	checkErr(t, err, ErrInvalid, mention)
	if msg := strings.TrimPrefix(err.Error(), "invalid: "); !strings.HasPrefix(msg, field) {
		t.Errorf("got %q, want it to start with the field %s", msg, field)
	}
}

func TestCreateClientAuth(t *testing.T) {
	w := newWorld(t)
	k := testKeys()
	pub := publicJWKS(t)
	mixed := jwksOf(jwk(t, k.rsa.Public(), "rsa-1", "PS256", "sig"), jwk(t, k.ed.Public(), "ed-1", "", ""),
		jwk(t, k.ec.Public(), "enc-1", "", "enc"), json.RawMessage(`{"kty":"AKP2","kid":"future","x":"AAAA"}`))
	secretAuth := store.ClientAuth{}
	tests := []struct {
		name string
		auth store.ClientAuth
		want store.ClientAuth // as stored
	}{
		{"no method: client_secret", store.ClientAuth{}, secretAuth},
		{"client_secret named", store.ClientAuth{Method: store.AuthSecret}, secretAuth},
		{"client_secret requiring DPoP", store.ClientAuth{Method: store.AuthSecret, RequireDPoP: true}, store.ClientAuth{RequireDPoP: true}},
		{"private_key_jwt, inline keys", store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: "  " + pub + "\n"},
			store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: pub}},
		{"private_key_jwt, keys of every kind and some it cannot use", store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: mixed},
			store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: mixed}},
		{"private_key_jwt, keys at a URL, with DPoP", store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKSURI: " https://ci.example.io/.well-known/jwks.json ", RequireDPoP: true},
			store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKSURI: "https://ci.example.io/.well-known/jwks.json", RequireDPoP: true}},
		{"tls_client_auth, subject DN", store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: "dn", TLSSubject: "CN=billing,O=Acme\\, Inc.,C=DE"},
			store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: "dn", TLSSubject: "CN=billing,O=Acme\\, Inc.,C=DE"}},
		{"tls_client_auth, DNS name in stored form", store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: "dns", TLSSubject: "Billing.Example.IO."},
			store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: "dns", TLSSubject: "billing.example.io"}},
		{"tls_client_auth, SPIFFE ID", store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: "uri", TLSSubject: "spiffe://acme.test/ns/ci/sa/deploy"},
			store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: "uri", TLSSubject: "spiffe://acme.test/ns/ci/sa/deploy"}},
		{"tls_client_auth, email", store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: "email", TLSSubject: "bot@acme.test"},
			store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: "email", TLSSubject: "bot@acme.test"}},
		{"self_signed_tls_client_auth", store.ClientAuth{Method: store.AuthSelfSignedTLS, JWKS: pub},
			store.ClientAuth{Method: store.AuthSelfSignedTLS, JWKS: pub}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, plain, err := w.svc.CreateClient(t.Context(), NewClient{Name: tt.name, Tenant: "acme", Auth: tt.auth})
			checkErr(t, err, nil, "")
			stored := w.stored(c.ID)
			if stored.Auth != tt.want {
				t.Errorf("stored auth: got %+v, want %+v", stored.Auth, tt.want)
			}
			if cc, ok := w.cat.Client(c.ID); !ok || cc.Auth != tt.want {
				t.Errorf("catalog auth: got %+v, want %+v at once", cc, tt.want)
			}
			if tt.want.UsesSecret() {
				checkStoredSecret(t, w, c.ID, plain, false)
			} else if plain != "" || len(stored.Secrets) != 0 {
				t.Errorf("got secret %.12q... and %d stored, want no secret at all", plain, len(stored.Secrets))
			}
			events := w.audit.take()
			if len(events) != 1 || events[0].Kind != "client.create" {
				t.Fatalf("audit: got %+v, want one client.create", events)
			}
			if v := events[0].After.(ClientView); v.AuthMethod != tt.want.MethodOrDefault() || v.RequireDPoP != tt.want.RequireDPoP {
				t.Errorf("audited view: got %s dpop %v, want %s dpop %v", v.AuthMethod, v.RequireDPoP, tt.want.MethodOrDefault(), tt.want.RequireDPoP)
			}
			checkNoHashes(t, events[0], plain)
		})
	}
}

func TestCreateClientAuthRefusals(t *testing.T) {
	w := newWorld(t)
	k := testKeys()
	pub := publicJWKS(t)
	ecPrivate := jwksOf(jwk(t, k.ec.Public(), "ok", "", ""), jwk(t, k.ec, "leaked", "ES256", "sig"))
	rsaPrivate := jwksOf(jwk(t, k.rsa, "rsa-leaked", "RS256", ""))
	edPrivate := jwksOf(jwk(t, k.ed, "", "", ""))
	upperD := strings.Replace(jwksOf(jwk(t, k.ec, "shouty", "", "")), `"d":`, `"D":`, 1)
	pkjwt := func(jwks, uri string) store.ClientAuth {
		return store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: jwks, JWKSURI: uri}
	}
	tlsAuth := func(kind, subject string) store.ClientAuth {
		return store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: kind, TLSSubject: subject}
	}
	tests := []struct {
		name           string
		in             NewClient
		field, mention string
	}{
		{"unknown method", NewClient{Auth: store.ClientAuth{Method: "client_secret_basic"}}, "auth_method", "not one of"},
		{"private_key_jwt without keys", NewClient{Auth: pkjwt("", "")}, "jwks or jwks_uri", "required"},
		{"private_key_jwt with both key sources", NewClient{Auth: pkjwt(pub, "https://ci.example.io/jwks")}, "jwks and jwks_uri", "not both"},
		{"a private EC key among public ones", NewClient{Auth: pkjwt(ecPrivate, "")}, "jwks", `key "leaked" holds private key material`},
		{"a private RSA key", NewClient{Auth: pkjwt(rsaPrivate, "")}, "jwks", "private key material"},
		{"a private Ed25519 key without kid", NewClient{Auth: pkjwt(edPrivate, "")}, "jwks", `key 0 holds private key material ("d")`},
		{"a private member in capitals", NewClient{Auth: pkjwt(upperD, "")}, "jwks", `private key material ("D")`},
		{"an HMAC key", NewClient{Auth: pkjwt(`{"keys":[{"kty":"oct","kid":"hs","alg":"HS256","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}]}`, "")}, "jwks", "symmetric"},
		{"an HMAC key without its secret", NewClient{Auth: pkjwt(`{"keys":[{"kty":"oct","kid":"hs"}]}`, "")}, "jwks", "symmetric"},
		{"jwks not JSON", NewClient{Auth: pkjwt("keys: ec-1", "")}, "jwks", "JWK Set"},
		{"jwks an array", NewClient{Auth: pkjwt(`[{"kty":"EC"}]`, "")}, "jwks", "JWK Set"},
		{"jwks without keys", NewClient{Auth: pkjwt(`{"kty":"EC"}`, "")}, "jwks", `no "keys"`},
		{"jwks with no keys", NewClient{Auth: pkjwt(`{"keys":[]}`, "")}, "jwks", "no usable signing key"},
		{"jwks with an encryption key only", NewClient{Auth: pkjwt(jwksOf(jwk(t, k.ec.Public(), "enc", "", "enc")), "")}, "jwks", `has use "enc"`},
		{"jwks with a short RSA key", NewClient{Auth: pkjwt(jwksOf(jwk(t, k.rsaWeak.Public(), "weak", "RS256", "")), "")}, "jwks", "1024 bits"},
		{"jwks with an alg that does not fit", NewClient{Auth: pkjwt(jwksOf(jwk(t, k.ec.Public(), "ec", "RS256", "")), "")}, "jwks", `alg "RS256"`},
		{"jwks with a broken key", NewClient{Auth: pkjwt(`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}`, "")}, "jwks", "no usable signing key"},
		{"jwks too large", NewClient{Auth: pkjwt(`{"keys":[],"pad":"`+strings.Repeat("x", 70<<10)+`"}`, "")}, "jwks", "larger than"},
		{"jwks_uri over http", NewClient{Auth: pkjwt("", "http://ci.example.io/jwks")}, "jwks_uri", "https"},
		{"jwks_uri relative", NewClient{Auth: pkjwt("", "/jwks.json")}, "jwks_uri", "absolute"},
		{"jwks_uri with a fragment", NewClient{Auth: pkjwt("", "https://ci.example.io/jwks#keys")}, "jwks_uri", "fragment"},
		{"jwks_uri with a password", NewClient{Auth: pkjwt("", "https://ci:pw@ci.example.io/jwks")}, "jwks_uri", "password"},
		{"tls_client_auth without a kind", NewClient{Auth: tlsAuth("", "CN=x")}, "tls_subject_kind", "required"},
		{"tls_client_auth with an unknown kind", NewClient{Auth: tlsAuth("ip", "10.0.0.1")}, "tls_subject_kind", `"ip" is not one of dn, dns, uri, email`},
		{"tls_client_auth without a subject", NewClient{Auth: tlsAuth("dn", " ")}, "tls_subject", "required"},
		{"tls_client_auth with a bad DN", NewClient{Auth: tlsAuth("dn", "CN=a,,O=b")}, "tls_subject", "not a valid subject DN"},
		{"tls_client_auth with a bad DNS name", NewClient{Auth: tlsAuth("dns", "bill ing.example.io")}, "tls_subject", "not a valid DNS name"},
		{"tls_client_auth with keys", NewClient{Auth: store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: "dn", TLSSubject: "CN=x", JWKS: pub}}, "jwks", "not tls_client_auth"},
		{"self_signed without keys", NewClient{Auth: store.ClientAuth{Method: store.AuthSelfSignedTLS}}, "jwks", "required"},
		{"self_signed with a jwks_uri", NewClient{Auth: store.ClientAuth{Method: store.AuthSelfSignedTLS, JWKSURI: "https://ci.example.io/jwks"}}, "jwks_uri", "only for private_key_jwt"},
		{"self_signed with a subject", NewClient{Auth: store.ClientAuth{Method: store.AuthSelfSignedTLS, JWKS: pub, TLSSubjectKind: "dn", TLSSubject: "CN=x"}}, "tls_subject_kind", "only for tls_client_auth"},
		{"self_signed with a private key", NewClient{Auth: store.ClientAuth{Method: store.AuthSelfSignedTLS, JWKS: ecPrivate}}, "jwks", "private key material"},
		{"client_secret with keys", NewClient{Auth: store.ClientAuth{JWKS: pub}}, "jwks", "not client_secret"},
		{"client_secret with a jwks_uri", NewClient{Auth: store.ClientAuth{Method: store.AuthSecret, JWKSURI: "https://ci.example.io/jwks"}}, "jwks_uri", "not client_secret"},
		{"client_secret with a subject", NewClient{Auth: store.ClientAuth{TLSSubject: "CN=x"}}, "tls_subject", "not client_secret"},
		{"an imported secret for a key client", NewClient{ID: "legacy-1", Secret: "2l9dr0jkink11ad49hg93it52d", Auth: pkjwt(pub, "")}, "client_secret", "only for auth_method client_secret"},
		{"a secret expiry for a certificate client", NewClient{SecretExpiresIn: time.Hour, Auth: tlsAuth("dns", "ci.acme.test")}, "secret_expires_in", "only for auth_method client_secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Name, tt.in.Tenant = "x", "acme"
			_, _, err := w.svc.CreateClient(t.Context(), tt.in)
			checkField(t, err, tt.field, tt.mention)
			if cs, _ := w.st.ListClients(t.Context()); len(cs) != 1 { // the bootstrap admin
				t.Errorf("stored clients: got %d, want 1", len(cs))
			}
			if events := w.audit.take(); len(events) != 0 {
				t.Errorf("audit: got %d events for a refused change, want none", len(events))
			}
		})
	}
}

// TestUpdateClientAuth: the method-switch rules. Moving to a key or
// certificate method drops the secrets and what the old method
// registered; moving back to client_secret leaves the client without a
// secret until rotate-secret; jwks and jwks_uri replace each other.
func TestUpdateClientAuth(t *testing.T) {
	w := newWorld(t)
	pub := publicJWKS(t)
	str := func(s string) *string { return &s }
	yes, no := true, false
	uri := "https://ci.example.io/jwks.json"
	start := map[string]store.ClientAuth{
		"secret": {},
		"jwks":   {Method: store.AuthPrivateKeyJWT, JWKS: pub},
		"uri":    {Method: store.AuthPrivateKeyJWT, JWKSURI: uri},
		"tls":    {Method: store.AuthTLS, TLSSubjectKind: "dn", TLSSubject: "CN=ci,O=Acme"},
	}
	tests := []struct {
		name           string
		from           string
		patch          ClientPatch
		want           store.ClientAuth // on success
		secrets        int              // on success
		field, mention string           // on refusal
	}{
		{"secret to private_key_jwt drops the secret", "secret", ClientPatch{AuthMethod: str(store.AuthPrivateKeyJWT), JWKS: &pub},
			store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: pub}, 0, "", ""},
		{"secret to tls_client_auth", "secret", ClientPatch{AuthMethod: str(store.AuthTLS), TLSSubjectKind: str("uri"), TLSSubject: str("spiffe://acme.test/ci")},
			store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: "uri", TLSSubject: "spiffe://acme.test/ci"}, 0, "", ""},
		{"require_dpop keeps the secret", "secret", ClientPatch{RequireDPoP: &yes}, store.ClientAuth{RequireDPoP: true}, 1, "", ""},
		{"inline keys replaced by a URL", "jwks", ClientPatch{JWKSURI: &uri}, start["uri"], 0, "", ""},
		{"a URL replaced by inline keys", "uri", ClientPatch{JWKS: &pub}, start["jwks"], 0, "", ""},
		{"new inline keys", "jwks", ClientPatch{JWKS: str(jwksOf(jwk(t, testKeys().ed.Public(), "ed-2", "EdDSA", "sig")))},
			store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: jwksOf(jwk(t, testKeys().ed.Public(), "ed-2", "EdDSA", "sig"))}, 0, "", ""},
		{"private_key_jwt to tls_client_auth drops the keys", "jwks", ClientPatch{AuthMethod: str(store.AuthTLS), TLSSubjectKind: str("dns"), TLSSubject: str("CI.acme.test")},
			store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: "dns", TLSSubject: "ci.acme.test"}, 0, "", ""},
		{"private_key_jwt to self-signed keeps the keys", "jwks", ClientPatch{AuthMethod: str(store.AuthSelfSignedTLS)},
			store.ClientAuth{Method: store.AuthSelfSignedTLS, JWKS: pub}, 0, "", ""},
		{"tls_client_auth subject alone", "tls", ClientPatch{TLSSubject: str("CN=deploy,O=Acme")},
			store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: "dn", TLSSubject: "CN=deploy,O=Acme"}, 0, "", ""},
		{"back to client_secret: no secret until rotate-secret", "tls", ClientPatch{AuthMethod: str(store.AuthSecret), RequireDPoP: &no},
			store.ClientAuth{}, 0, "", ""},
		{"a name alone leaves the keys alone", "jwks", ClientPatch{Name: str("renamed")}, start["jwks"], 0, "", ""},
		{"to tls_client_auth keeping keys given", "jwks", ClientPatch{AuthMethod: str(store.AuthTLS), TLSSubjectKind: str("dn"), TLSSubject: str("CN=x"), JWKS: &pub},
			store.ClientAuth{}, 0, "jwks", "not tls_client_auth"},
		{"to self-signed from a URL", "uri", ClientPatch{AuthMethod: str(store.AuthSelfSignedTLS)}, store.ClientAuth{}, 0, "jwks", "required"},
		{"to tls_client_auth without a subject", "secret", ClientPatch{AuthMethod: str(store.AuthTLS)}, store.ClientAuth{}, 0, "tls_subject", "required"},
		{"to tls_client_auth without a kind", "secret", ClientPatch{AuthMethod: str(store.AuthTLS), TLSSubject: str("CN=x")}, store.ClientAuth{}, 0, "tls_subject_kind", "required"},
		{"keys with a private one", "jwks", ClientPatch{JWKS: str(jwksOf(jwk(t, testKeys().ec, "leaked", "", "")))}, store.ClientAuth{}, 0, "jwks", "private key material"},
		{"keys removed", "jwks", ClientPatch{JWKS: str("")}, store.ClientAuth{}, 0, "jwks or jwks_uri", "required"},
		{"an http URL", "jwks", ClientPatch{JWKSURI: str("http://ci.example.io/jwks")}, store.ClientAuth{}, 0, "jwks_uri", "https"},
		{"a bad DN", "tls", ClientPatch{TLSSubject: str("CN=a,,O=b")}, store.ClientAuth{}, 0, "tls_subject", "subject DN"},
		{"a subject on a secret client", "secret", ClientPatch{TLSSubjectKind: str("dn"), TLSSubject: str("CN=x")}, store.ClientAuth{}, 0, "tls_subject_kind", "not client_secret"},
		{"an unknown method", "jwks", ClientPatch{AuthMethod: str("none")}, store.ClientAuth{}, 0, "auth_method", `"none"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, plain, err := w.svc.CreateClient(t.Context(), NewClient{Name: "patched", Tenant: "acme", Auth: start[tt.from]})
			must(t, err)
			before := w.stored(c.ID)
			w.audit.take()
			w.clock.Add(time.Minute)
			_, err = w.svc.UpdateClient(t.Context(), c.ID, tt.patch)
			stored := w.stored(c.ID)
			if tt.field != "" {
				checkField(t, err, tt.field, tt.mention)
				if stored.Auth != before.Auth || len(stored.Secrets) != len(before.Secrets) || !stored.UpdatedAt.Equal(before.UpdatedAt) {
					t.Errorf("a refused update changed the client: got %+v, want %+v", stored, before)
				}
				return
			}
			checkErr(t, err, nil, "")
			if stored.Auth != tt.want || len(stored.Secrets) != tt.secrets {
				t.Errorf("stored: got %+v and %d secrets, want %+v and %d", stored.Auth, len(stored.Secrets), tt.want, tt.secrets)
			}
			if cc, _ := w.cat.Client(c.ID); cc == nil || cc.Auth != tt.want || len(cc.Secrets) != tt.secrets {
				t.Errorf("catalog: got %+v, want the update at once", cc)
			}
			events := w.audit.take()
			if len(events) != 1 || events[0].Kind != "client.update" {
				t.Fatalf("audit: got %+v, want one client.update", events)
			}
			b, a := events[0].Before.(ClientView), events[0].After.(ClientView)
			if len(b.Secrets) != len(before.Secrets) || len(a.Secrets) != tt.secrets || a.AuthMethod != tt.want.MethodOrDefault() {
				t.Errorf("audit: got %d secrets before, %d after, method %s; want %d, %d, %s",
					len(b.Secrets), len(a.Secrets), a.AuthMethod, len(before.Secrets), tt.secrets, tt.want.MethodOrDefault())
			}
			checkNoHashes(t, events[0], plain)
		})
	}
	t.Run("rotate-secret gives a client back on client_secret its secret", func(t *testing.T) {
		c, _, err := w.svc.CreateClient(t.Context(), NewClient{Name: "back", Tenant: "acme", Auth: start["uri"]})
		must(t, err)
		must(t, first(w.svc.UpdateClient(t.Context(), c.ID, ClientPatch{AuthMethod: str(store.AuthSecret)})))
		_, plain, err := w.svc.RotateSecret(t.Context(), c.ID, RotateOptions{KeepOld: 0, ExpiresIn: 0})
		checkErr(t, err, nil, "")
		checkStoredSecret(t, w, c.ID, plain, false)
	})
}

// TestRotateSecretWithoutSecretMethod: a client that authenticates by key
// or certificate holds no secret, and rotate-secret does not make one.
func TestRotateSecretWithoutSecretMethod(t *testing.T) {
	w := newWorld(t)
	pub := publicJWKS(t)
	for _, auth := range []store.ClientAuth{
		{Method: store.AuthPrivateKeyJWT, JWKS: pub},
		{Method: store.AuthTLS, TLSSubjectKind: "email", TLSSubject: "ci@acme.test"},
		{Method: store.AuthSelfSignedTLS, JWKS: pub, RequireDPoP: true},
	} {
		t.Run(auth.Method, func(t *testing.T) {
			c, _, err := w.svc.CreateClient(t.Context(), NewClient{Name: auth.Method, Tenant: "acme", Auth: auth})
			must(t, err)
			w.audit.take()
			_, plain, err := w.svc.RotateSecret(t.Context(), c.ID, RotateOptions{KeepOld: time.Hour, ExpiresIn: 0})
			checkErr(t, err, ErrInvalid, "rotate-secret is only for client_secret clients")
			if plain != "" || len(w.stored(c.ID).Secrets) != 0 {
				t.Errorf("got secret %.12q... and %d stored, want none", plain, len(w.stored(c.ID).Secrets))
			}
			if events := w.audit.take(); len(events) != 0 {
				t.Errorf("audit: got %+v for a refused rotation, want none", events)
			}
		})
	}
}

func TestClientViewAuth(t *testing.T) {
	pub := publicJWKS(t)
	tests := []struct {
		name string
		auth store.ClientAuth
		want map[string]any // fields of the JSON view; nil: absent
	}{
		{"default", store.ClientAuth{}, map[string]any{"auth_method": "client_secret", "require_dpop": false, "jwks": nil, "jwks_uri": nil, "tls_subject": nil}},
		{"inline keys", store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: pub, RequireDPoP: true},
			map[string]any{"auth_method": "private_key_jwt", "require_dpop": true, "jwks_uri": nil}},
		{"a URL", store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKSURI: "https://ci.example.io/jwks"},
			map[string]any{"auth_method": "private_key_jwt", "jwks_uri": "https://ci.example.io/jwks", "jwks": nil}},
		{"a subject", store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: "dns", TLSSubject: "ci.acme.test"},
			map[string]any{"auth_method": "tls_client_auth", "tls_subject_kind": "dns", "tls_subject": "ci.acme.test", "jwks": nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := json.Marshal(clientView(store.Client{ID: "c1", Auth: tt.auth}, ""))
			must(t, err)
			var got map[string]any
			must(t, json.Unmarshal(raw, &got))
			for k, want := range tt.want {
				if v, ok := got[k]; (want == nil && ok) || (want != nil && v != want) {
					t.Errorf("%s: got %v (present %v), want %v", k, v, ok, want)
				}
			}
			if tt.auth.JWKS != "" {
				keys, _ := got["jwks"].(map[string]any)["keys"].([]any)
				if len(keys) != 1 {
					t.Errorf("jwks: got %v, want the JWK Set as an object", got["jwks"])
				}
			}
		})
	}
	if got := KeyIDs(jwksOf(jwk(t, testKeys().ec.Public(), "a", "", ""), jwk(t, testKeys().ed.Public(), "", "", ""))); strings.Join(got, ",") != "a,(no kid)" {
		t.Errorf("KeyIDs: got %q, want a and (no kid)", got)
	}
}

// checkNoHashes fails t if an audit event holds a stored hash or the
// secret plain. (A view of a private_key_jwt client names its method, so
// checkNoSecrets, which refuses the word "private", does not fit it.)
func checkNoHashes(t *testing.T, e auditEvent, plain string) {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"before": e.Before, "after": e.After})
	must(t, err)
	bad := []string{"sha256:", "bcrypt:", `"hash"`, secret.Prefix}
	if plain != "" {
		bad = append(bad, plain)
	}
	for _, b := range bad {
		if strings.Contains(string(raw), b) {
			t.Errorf("audit detail holds %.12q: %s", b, raw)
		}
	}
}

// TestClientAuthOnTheWire: the admin API takes auth_method, jwks (an
// object), jwks_uri, the TLS subject and require_dpop, shows them back,
// and shows no secret for a client that has none.
func TestClientAuthOnTheWire(t *testing.T) {
	a := newAdminAPI(t)
	ops, _ := a.client("ops", map[string][]string{store.AdminAudience: {store.ScopeRead, store.ScopeWrite}})
	tok := a.adminToken(ops.ID, "admin:read admin:write")
	pub := publicJWKS(t)
	view := func(rec *httptest.ResponseRecorder, status int) (ClientView, map[string]any) {
		t.Helper()
		if rec.Code != status {
			t.Fatalf("got %d %s, want %d", rec.Code, rec.Body, status)
		}
		var v ClientView
		var m map[string]any
		must(t, json.Unmarshal(rec.Body.Bytes(), &v))
		must(t, json.Unmarshal(rec.Body.Bytes(), &m))
		return v, m
	}

	c, m := view(a.call("POST", "/admin/v1/clients", tok, `{"name":"ci","tenant":"acme","auth_method":"private_key_jwt","jwks":`+pub+`,"require_dpop":true}`), 201)
	if _, shown := m["client_secret"]; shown || len(c.Secrets) != 0 || c.AuthMethod != "private_key_jwt" || !c.RequireDPoP {
		t.Errorf("create: got %v, want no secret, private_key_jwt, require_dpop", m)
	}
	if keys, _ := m["jwks"].(map[string]any)["keys"].([]any); len(keys) != 1 {
		t.Errorf("create: got jwks %v, want the JWK Set as an object", m["jwks"])
	}
	path := "/admin/v1/clients/" + c.ClientID
	if got, _ := view(a.call("PATCH", path, tok, `{"jwks_uri":"https://ci.example.io/jwks"}`), 200); got.JWKS != nil || got.JWKSURI != "https://ci.example.io/jwks" {
		t.Errorf("PATCH jwks_uri: got jwks %s and jwks_uri %q, want the URL alone", got.JWKS, got.JWKSURI)
	}
	if got, _ := view(a.call("PATCH", path, tok, `{"jwks":`+pub+`,"jwks_uri":null,"require_dpop":false}`), 200); got.JWKS == nil || got.JWKSURI != "" || got.RequireDPoP {
		t.Errorf("PATCH jwks: got jwks %s, jwks_uri %q, dpop %v; want the keys alone, no DPoP", got.JWKS, got.JWKSURI, got.RequireDPoP)
	}
	if got, _ := view(a.call("PATCH", path, tok, `{"auth_method":"tls_client_auth","tls_subject_kind":"uri","tls_subject":"spiffe://acme.test/ci"}`), 200); got.JWKS != nil ||
		got.TLSSubjectKind != "uri" || got.TLSSubject != "spiffe://acme.test/ci" {
		t.Errorf("PATCH to tls_client_auth: got %+v", got)
	}
	secretClient, m := view(a.call("POST", "/admin/v1/clients", tok, `{"name":"plain","tenant":"acme"}`), 201)
	if secretClient.AuthMethod != "client_secret" || m["require_dpop"] != false || !strings.HasPrefix(secretClient.ClientSecret, secret.Prefix) {
		t.Errorf("default create: got %v, want client_secret with a secret", m)
	}

	tests := []struct {
		name, method, path, body string
		mention                  string
	}{
		{"an unknown method", "POST", "/admin/v1/clients", `{"name":"x","tenant":"acme","auth_method":"magic"}`, "auth_method"},
		{"jwks as a string", "POST", "/admin/v1/clients", `{"name":"x","tenant":"acme","auth_method":"private_key_jwt","jwks":"` + strings.ReplaceAll(pub, `"`, `\"`) + `"}`, "jwks: want a JWK Set"},
		{"a private key", "POST", "/admin/v1/clients", `{"name":"x","tenant":"acme","auth_method":"private_key_jwt","jwks":` + jwksOf(jwk(t, testKeys().ec, "k", "", "")) + `}`, "private key material"},
		{"an http jwks_uri", "POST", "/admin/v1/clients", `{"name":"x","tenant":"acme","auth_method":"private_key_jwt","jwks_uri":"http://ci.example.io/jwks"}`, "https"},
		{"a bad DN", "PATCH", path, `{"tls_subject_kind":"dn","tls_subject":"CN=a,,O=b"}`, "tls_subject"},
		{"an import for a key client", "POST", "/admin/v1/clients", `{"name":"x","tenant":"acme","client_id":"legacy-9","client_secret":"2l9dr0jkink11ad49hg93it52d","auth_method":"self_signed_tls_client_auth","jwks":` + pub + `}`, "client_secret"},
		{"rotate-secret on a certificate client", "POST", path + "/rotate-secret", "", "rotate-secret is only for client_secret clients"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := a.call(tt.method, tt.path, tok, tt.body)
			_, description := errorOf(t, rec)
			if rec.Code != 400 || !strings.Contains(description, tt.mention) {
				t.Errorf("got %d %q, want 400 mentioning %q", rec.Code, description, tt.mention)
			}
		})
	}
}
