package token

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/dpop"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// FuzzAuthenticate: whatever a caller puts in client_id,
// client_assertion_type, client_assertion and the DPoP header, gatehouse
// answers with a protocol error, never a panic or a 500, and issues
// nothing. Most seeds are well signed, so that mutations start from
// tokens that reach the claims checks.
func FuzzAuthenticate(f *testing.F) {
	w := newWorld(f)
	keyed := w.withAuth(store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: registered(f, "ec", "ed", "rsa")},
		admin.NewClient{Grants: map[string][]string{platform: {"read"}}})
	holder := w.client(admin.NewClient{Grants: map[string][]string{platform: {"read"}}})
	nonces, err := dpop.NewNonceIssuer(randomBytes(32), 0, w.clock.Now)
	if err != nil {
		f.Fatal(err)
	}
	nonced := w.issuer(Config{IssuerURL: issuerURL, DPoP: DPoPConfig{Nonces: nonces}})

	k := testKeys()
	now := w.clock.Now()
	// Well-signed seeds that fail one check each, whatever process runs
	// them (fuzz workers make their own keys and caches).
	f.Add("", oauth.ClientAssertionJWT, signJWT(f, k["foreign"], assertionClaims(keyed.id, tokenURL, now)), mustProof(f, k["ed"], "GET", tokenURL, now))
	f.Add(keyed.id, oauth.ClientAssertionJWT, signJWT(f, k["ec"], assertionClaims(keyed.id, platform, now)), newProof(f, k["ec"], issuerURL+"/oauth/introspect", now, ""))
	f.Add("", oauth.ClientAssertionJWT, signJWT(f, k["ed"], with(assertionClaims(keyed.id, tokenURL, now), "jti", nil)), newProof(f, k["rsa"], tokenURL, now.Add(-time.Hour), ""))
	f.Add(holder.id, oauth.ClientAssertionJWT, signJWT(f, k["ed"], assertionClaims(holder.id, tokenURL, now)), "")
	f.Add("", oauth.ClientAssertionJWT, handMade(f, map[string]string{"alg": "none"}, assertionClaims(keyed.id, tokenURL, now), nil),
		handMade(f, map[string]any{"typ": "dpop+jwt", "alg": "none", "jwk": map[string]string{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}}, proofClaims(now), nil))
	f.Add("nobody", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer", "a.b.c", "a.b.c")
	f.Add("", "", "", "e30.e30.e30")
	f.Add("", "", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.", "not-a-proof")

	f.Fuzz(func(t *testing.T, clientID, assertionType, assertion, proof string) {
		ctx := t.Context()
		// The assertion, without the throttle, which would soon answer
		// every input alike.
		req := oauth.TokenRequest{
			GrantType: "client_credentials", ClientID: clientID, Audience: platform, EndpointURL: tokenURL,
			ClientAssertionType: assertionType, ClientAssertion: assertion, DPoP: proof,
		}
		_, err := w.iss.Authenticate(ctx, req)
		wantRefused(t, "authentication", err, "invalid_client", "invalid_request")

		// The proof, on a request by a client that authenticates: no
		// proof is a Bearer token, anything else must be refused.
		if proof == "" {
			return
		}
		req = holder.req("audience", platform)
		req.EndpointURL, req.DPoP = tokenURL, proof
		_, err = w.iss.Token(ctx, req, "", addr)
		wantRefused(t, "the proof", err, "invalid_dpop_proof")
		_, err = nonced.Token(ctx, req, "", addr)
		wantRefused(t, "the proof, with nonces", err, "invalid_dpop_proof", "use_dpop_nonce")
	})
}

// wantRefused fails unless err is a client error with one of codes.
func wantRefused(t *testing.T, what string, err error, codes ...string) {
	t.Helper()
	var e *oauth.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: got %v, want a protocol error", what, err)
	}
	if e.Status < 400 || e.Status >= 500 || !slices.Contains(codes, e.Code) {
		t.Fatalf("%s: got %d %s (%v), want a 4xx %q", what, e.Status, e.Code, e.Cause, codes)
	}
}
