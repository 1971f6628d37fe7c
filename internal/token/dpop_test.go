package token

import (
	"crypto"
	"crypto/tls"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/binding"
	"github.com/gatehouse/gatehouse/internal/dpop"
	"github.com/gatehouse/gatehouse/internal/mtls"
	"github.com/gatehouse/gatehouse/internal/mtls/mtlstest"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/verify"
)

// newProof is a DPoP proof by k for a POST to url at now, with nonce
// when set.
func newProof(t testing.TB, k clientKey, url string, now time.Time, nonce string) string {
	t.Helper()
	p, err := dpop.NewProof(k.priv, string(k.alg), http.MethodPost, url, "", nonce, now)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// jkt is the thumbprint a token bound to k carries in cnf.jkt.
func jkt(t testing.TB, k clientKey) string {
	t.Helper()
	s, err := dpop.Thumbprint(k.priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// proofClaims are a proof's claims for a POST to the token endpoint.
func proofClaims(now time.Time) map[string]any {
	return map[string]any{"jti": base64.RawURLEncoding.EncodeToString(randomBytes(16)), "htm": "POST", "htu": tokenURL, "iat": now.Unix()}
}

// signProof signs claims with key under headers of the caller's choosing,
// for the proofs NewProof will not make.
func signProof(t testing.TB, key crypto.Signer, alg jose.SignatureAlgorithm, opts *jose.SignerOptions, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return serialize(t, signer, claims)
}

func dpopHeader(proof string) http.Header { return http.Header{"DPoP": {proof}} }

// TestDPoP is RFC 9449 at the token endpoint: a proof with the request
// binds the token to the proof's key, cnf.jkt, with token_type DPoP, in
// the JWT, in introspection and in the stored opaque token; the proof's
// htu is the endpoint as clients address it, without the query.
func TestDPoP(t *testing.T) {
	w := newWorld(t)
	e := w.serve(t, Config{IssuerURL: issuerURL}, nil)
	c := e.client(admin.NewClient{Environment: "qa", Grants: map[string][]string{platform: {"read"}, property: {"property:write"}}})
	k := testKeys()
	now := w.clock.Now()
	for _, name := range []string{"ec", "ed", "rsa", "pss"} {
		key := k[name]
		t.Run(string(key.alg), func(t *testing.T) {
			a := e.postForm(form("grant_type", "client_credentials", "client_id", c.id, "client_secret", c.secret, "audience", platform),
				dpopHeader(newProof(t, key, tokenURL, now, "")))
			if a.status != 200 || a.fields()["token_type"] != "DPoP" || len(a.fields()) != 4 {
				t.Fatalf("got %d %s, want 200 and exactly the four fields with token_type DPoP", a.status, a.body)
			}
			tok := a.fields()["access_token"].(string)
			checkToken(t, e.world, tok, platform, c.id, "qa", "read", verify.Confirmation{JKT: jkt(t, key)})
			in := e.send("POST", "/oauth/introspect", formType, form("client_id", c.id, "client_secret", c.secret, "token", tok), nil)
			if cnf, _ := in.fields()["cnf"].(map[string]any); in.status != 200 || in.fields()["token_type"] != "DPoP" || len(cnf) != 1 || cnf["jkt"] != jkt(t, key) {
				t.Errorf("introspection: got %d %s, want token_type DPoP and cnf.jkt %s alone", in.status, in.body, jkt(t, key))
			}
		})
	}

	t.Run("opaque, per-service, parameters in the query", func(t *testing.T) {
		const path = "/streaming-property/v1/oauth2/token"
		query := "?grant_type=client_credentials&client_id=" + c.id + "&client_secret=" + c.secret
		a := e.send("POST", path+query, "", "", dpopHeader(newProof(t, k["ec"], issuerURL+path+query, now, "")))
		if a.status != 200 || a.fields()["token_type"] != "DPoP" {
			t.Fatalf("got %d %s, want 200 and token_type DPoP", a.status, a.body)
		}
		tok := a.fields()["access_token"].(string)
		stored, err := w.st.GetOpaqueToken(t.Context(), HashOpaque(tok))
		if err != nil {
			t.Fatal(err)
		}
		if stored.Confirmation != (store.Confirmation{JKT: jkt(t, k["ec"])}) {
			t.Errorf("stored: got cnf %+v, want jkt %s", stored.Confirmation, jkt(t, k["ec"]))
		}
		in := e.send("POST", "/oauth/introspect", formType, form("client_id", c.id, "client_secret", c.secret, "token", tok), nil)
		if cnf, _ := in.fields()["cnf"].(map[string]any); in.fields()["token_type"] != "DPoP" || cnf["jkt"] != jkt(t, k["ec"]) {
			t.Errorf("introspection: got %d %s, want token_type DPoP and cnf.jkt %s", in.status, in.body, jkt(t, k["ec"]))
		}
	})
}

// TestDPoPRefused: a proof that fails any check of RFC 9449 §4.3, is
// replayed, or is missing for a client that must send one, is 400
// invalid_dpop_proof and nothing is issued.
func TestDPoPRefused(t *testing.T) {
	w := newWorld(t)
	e := w.serve(t, Config{IssuerURL: issuerURL}, nil)
	grants := map[string][]string{platform: {"read"}}
	c := e.client(admin.NewClient{Grants: grants})
	strict := e.client(admin.NewClient{Grants: grants})
	e.setAuth(strict, store.ClientAuth{RequireDPoP: true})
	k := testKeys()
	now := w.clock.Now()
	body := func(who cred) string {
		return form("grant_type", "client_credentials", "client_id", who.id, "client_secret", who.secret, "audience", platform)
	}
	embed := (&jose.SignerOptions{EmbedJWK: true}).WithType(dpop.ProofType)
	publicJWK := jose.JSONWebKey{Key: k["ec"].priv.Public()}
	replayed := newProof(t, k["ec"], tokenURL, now, "")

	cases := []struct {
		name   string
		who    cred
		first  http.Header // a request that succeeds first, when set
		header http.Header
		desc   string
	}{
		{name: "htm GET", header: dpopHeader(mustProof(t, k["ec"], "GET", tokenURL, now)), desc: "htm does not match"},
		{name: "htu another endpoint", header: dpopHeader(newProof(t, k["ec"], issuerURL+"/oauth/introspect", now, "")), desc: "htu does not match"},
		{name: "htu the listener, not the issuer", header: dpopHeader(newProof(t, k["ec"], e.url+"/oauth/token", now, "")), desc: "htu does not match"},
		{name: "iat two minutes ago", header: dpopHeader(newProof(t, k["ec"], tokenURL, now.Add(-2*time.Minute), "")), desc: "iat outside the accepted window"},
		{name: "iat in a minute", header: dpopHeader(newProof(t, k["ec"], tokenURL, now.Add(time.Minute), "")), desc: "iat outside the accepted window"},
		{name: "replayed", first: dpopHeader(replayed), header: dpopHeader(replayed), desc: "used before"},
		{name: "a private key in the jwk header", header: dpopHeader(signProof(t, k["ec"].priv, jose.ES256,
			(&jose.SignerOptions{}).WithType(dpop.ProofType).WithHeader("jwk", jose.JSONWebKey{Key: k["ec"].priv}), proofClaims(now))), desc: "private key material"},
		{name: "alg none", header: dpopHeader(handMade(t, map[string]any{"typ": dpop.ProofType, "alg": "none", "jwk": publicJWK}, proofClaims(now), nil)), desc: "algorithm not accepted"},
		{name: "HS256 keyed with the jwk", header: dpopHeader(handMade(t, map[string]any{"typ": dpop.ProofType, "alg": "HS256", "jwk": publicJWK}, proofClaims(now), hmacWith([]byte("key")))), desc: "algorithm not accepted"},
		{name: "typ JWT", header: dpopHeader(signProof(t, k["ec"].priv, jose.ES256, (&jose.SignerOptions{EmbedJWK: true}).WithType("JWT"), proofClaims(now))), desc: "typ is not dpop+jwt"},
		{name: "signed by another key than the jwk", header: dpopHeader(signProof(t, k["foreign"].priv, jose.ES256,
			(&jose.SignerOptions{}).WithType(dpop.ProofType).WithHeader("jwk", publicJWK), proofClaims(now))), desc: "signature invalid"},
		{name: "no jti", header: dpopHeader(signProof(t, k["ec"].priv, jose.ES256, embed, with(proofClaims(now), "jti", nil))), desc: "no jti"},
		{name: "no iat", header: dpopHeader(signProof(t, k["ec"].priv, jose.ES256, embed, with(proofClaims(now), "iat", nil))), desc: "malformed"},
		{name: "not a JWT", header: dpopHeader("not-a-proof"), desc: "malformed"},
		{name: "two proofs", header: http.Header{"DPoP": {newProof(t, k["ec"], tokenURL, now, ""), newProof(t, k["ed"], tokenURL, now, "")}}, desc: "one DPoP proof"},
		{name: "require_dpop without a proof", who: strict, desc: "must send a DPoP proof"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			who := c
			if tc.who.id != "" {
				who = tc.who
			}
			if tc.first != nil {
				if a := e.postForm(body(who), tc.first); a.status != 200 {
					t.Fatalf("the first request: got %d %s, want 200", a.status, a.body)
				}
			}
			issued := e.obs.count()
			a := e.postForm(body(who), tc.header)
			checkError(t, a, 400, "invalid_dpop_proof")
			if !strings.Contains(a.fields()["error_description"].(string), tc.desc) {
				t.Errorf("got description %q, want it to say %q", a.fields()["error_description"], tc.desc)
			}
			if e.obs.count() != issued {
				t.Errorf("a token was issued")
			}
		})
	}
	t.Run("require_dpop with a proof", func(t *testing.T) {
		a := e.postForm(body(strict), dpopHeader(newProof(t, k["ed"], tokenURL, now, "")))
		if a.status != 200 || a.fields()["token_type"] != "DPoP" {
			t.Errorf("got %d %s, want a DPoP token", a.status, a.body)
		}
	})
}

// mustProof is a proof for another method than POST.
func mustProof(t testing.TB, k clientKey, method, url string, now time.Time) string {
	t.Helper()
	p, err := dpop.NewProof(k.priv, string(k.alg), method, url, "", "", now)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDPoPNonce is RFC 9449 §8: with server nonces on, a proof without
// one, or with one the server did not issue lately, is answered
// use_dpop_nonce with a fresh nonce in DPoP-Nonce; the retry with it gets
// the token.
func TestDPoPNonce(t *testing.T) {
	w := newWorld(t)
	nonces, err := dpop.NewNonceIssuer(randomBytes(32), time.Minute, w.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	e := w.serve(t, Config{IssuerURL: issuerURL, DPoP: DPoPConfig{Nonces: nonces}}, nil)
	c := e.client(admin.NewClient{Grants: map[string][]string{platform: {"read"}}})
	k := testKeys()
	body := form("grant_type", "client_credentials", "client_id", c.id, "client_secret", c.secret, "audience", platform)
	askNonce := func(t *testing.T, proof string) string {
		t.Helper()
		a := e.postForm(body, dpopHeader(proof))
		checkError(t, a, 400, "use_dpop_nonce")
		nonce := a.header.Get("DPoP-Nonce")
		if nonce == "" {
			t.Fatalf("got no DPoP-Nonce header: %v", a.header)
		}
		return nonce
	}
	nonce := askNonce(t, newProof(t, k["ec"], tokenURL, w.clock.Now(), ""))
	if a := e.postForm(body, dpopHeader(newProof(t, k["ec"], tokenURL, w.clock.Now(), nonce))); a.status != 200 || a.fields()["token_type"] != "DPoP" {
		t.Fatalf("the retry with the nonce: got %d %s, want a DPoP token", a.status, a.body)
	}
	if got := askNonce(t, newProof(t, k["ec"], tokenURL, w.clock.Now(), "a-nonce-of-my-own")); got != nonce {
		t.Errorf("a made-up nonce: got the nonce %q, want the current %q", got, nonce)
	}
	w.clock.Add(2 * time.Minute)
	fresh := askNonce(t, newProof(t, k["ec"], tokenURL, w.clock.Now(), nonce))
	if fresh == nonce {
		t.Errorf("two minutes later the old nonce was accepted again")
	}
	if a := e.postForm(body, dpopHeader(newProof(t, k["ec"], tokenURL, w.clock.Now(), fresh))); a.status != 200 {
		t.Errorf("the retry with the fresh nonce: got %d %s", a.status, a.body)
	}
	a := e.postForm(body, dpopHeader(mustProof(t, k["ec"], "GET", tokenURL, w.clock.Now())))
	checkError(t, a, 400, "invalid_dpop_proof")
	if a.header.Get("DPoP-Nonce") != "" {
		t.Errorf("a bad proof was answered with a nonce, want invalid_dpop_proof alone")
	}
}

// TestDPoPWithCertificate: a tls_client_auth client sending a proof gets
// a token bound both ways, over a real TLS listener.
func TestDPoPWithCertificate(t *testing.T) {
	w := newWorld(t)
	ca, cfg := clientCA(t)
	e := w.serve(t, cfg, &tls.Config{ClientAuth: tls.RequestClientCert})
	c := e.withAuth(store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: mtls.KindDNS, TLSSubject: "billing.acme.example"},
		admin.NewClient{Grants: map[string][]string{platform: {"read"}}})
	leaf := ca.Issue(t, mtlstest.Spec{DNSNames: []string{"billing.acme.example"}})
	cert := leaf.TLSCertificate()
	key := testKeys()["ed"]
	a := e.sendWithCert(&cert, "POST", "/oauth/token", formType, form("grant_type", "client_credentials", "client_id", c.id, "audience", platform),
		dpopHeader(newProof(t, key, tokenURL, w.clock.Now(), "")))
	if a.status != 200 || a.fields()["token_type"] != "DPoP" {
		t.Fatalf("got %d %s, want a DPoP token", a.status, a.body)
	}
	want := verify.Confirmation{JKT: jkt(t, key), X5TS256: binding.Thumbprint(leaf.Cert)}
	tok := a.fields()["access_token"].(string)
	checkToken(t, e.world, tok, platform, c.id, "", "read", want)
	in := e.sendWithCert(&cert, "POST", "/oauth/introspect", formType, form("client_id", c.id, "token", tok), nil)
	if cnf, _ := in.fields()["cnf"].(map[string]any); in.status != 200 || cnf["jkt"] != want.JKT || cnf["x5t#S256"] != want.X5TS256 {
		t.Errorf("introspection: got %d %s, want cnf %+v", in.status, in.body, want)
	}
}

// TestDPoPReuseWindow: within an API's reuse window a client gets its
// bound token again only with a proof by the same key, and never with
// another key, another certificate, or no proof.
func TestDPoPReuseWindow(t *testing.T) {
	w := newWorld(t)
	window := time.Minute
	if _, err := w.admin.UpdateAPI(t.Context(), platform, admin.APIPatch{ReuseWindow: &window}); err != nil {
		t.Fatal(err)
	}
	ca, cfg := clientCA(t)
	iss := w.issuer(cfg)
	k := testKeys()
	c := w.client(admin.NewClient{Grants: map[string][]string{platform: {"read"}}})
	ask := func(key *clientKey) Response {
		t.Helper()
		req := c.req("audience", platform)
		req.EndpointURL = tokenURL
		if key != nil {
			req.DPoP = newProof(t, *key, tokenURL, w.clock.Now(), "")
		}
		return issue(t, iss, req, "").Response
	}
	ec, ed := k["ec"], k["ed"]
	first := ask(&ec)
	w.clock.Add(10 * time.Second)
	if again := ask(&ec); again.AccessToken != first.AccessToken || again.TokenType != "DPoP" {
		t.Errorf("the same key: got another token, want the one it holds")
	}
	other := ask(&ed)
	if other.AccessToken == first.AccessToken {
		t.Errorf("another key got the token bound to the first")
	}
	bearer := ask(nil)
	if bearer.AccessToken == first.AccessToken || bearer.AccessToken == other.AccessToken || bearer.TokenType != "Bearer" {
		t.Errorf("no proof: got %+v, want a fresh Bearer token", bearer)
	}
	if again := ask(nil); again.AccessToken != bearer.AccessToken {
		t.Errorf("no proof again: got another token, want the Bearer one it holds")
	}
	if again := ask(&ed); again.AccessToken != other.AccessToken {
		t.Errorf("the second key again: got another token, want the one bound to it")
	}

	tc := w.withAuth(store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: mtls.KindDNS, TLSSubject: "billing.acme.example"},
		admin.NewClient{Grants: map[string][]string{platform: {"read"}}})
	spec := mtlstest.Spec{DNSNames: []string{"billing.acme.example"}}
	one, two := ca.Issue(t, spec), ca.Issue(t, spec)
	withCert := func(leaf *mtlstest.Leaf, key *clientKey) Response {
		t.Helper()
		req := certReq(tc.id, leaf, "audience", platform)
		if key != nil {
			req.DPoP = newProof(t, *key, tokenURL, w.clock.Now(), "")
		}
		return issue(t, iss, req, "").Response
	}
	byOne := withCert(one, nil)
	if again := withCert(one, nil); again.AccessToken != byOne.AccessToken {
		t.Errorf("the same certificate: got another token, want the one it holds")
	}
	if byTwo := withCert(two, nil); byTwo.AccessToken == byOne.AccessToken {
		t.Errorf("another certificate of the same client got the token bound to the first")
	}
	if both := withCert(one, &ec); both.AccessToken == byOne.AccessToken || both.TokenType != "DPoP" {
		t.Errorf("the certificate and a proof: got the certificate-only token, want a token bound to both")
	}
}
