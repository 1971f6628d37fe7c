package bench

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/dpop"
)

// benchKeys are made once: RSA generation is slow.
var benchKeys = sync.OnceValue(func() map[string]crypto.Signer {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return map[string]crypto.Signer{"ES256": ec, "RS256": rk, "EdDSA": ed, "P-384": p384}
})

// TestAssertionSigner checks the lean assertions with go-jose, as the
// server checks them.
func TestAssertionSigner(t *testing.T) {
	now := time.Unix(1_750_000_000, 0)
	for _, alg := range []string{"ES256", "RS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			key := benchKeys()[alg]
			a, err := newAssertionSigner(key, "", "k-1", `c"1`, "http://127.0.0.1/oauth/token")
			if err != nil {
				t.Fatal(err)
			}
			raw, _, err := a.sign(nil, nil, now)
			if err != nil {
				t.Fatal(err)
			}
			jws, err := jose.ParseSigned(string(raw), []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatal(err)
			}
			payload, err := jws.Verify(key.Public())
			if err != nil {
				t.Fatalf("go-jose does not verify it: %v", err)
			}
			var c struct {
				Iss, Sub, Aud, Jti string
				Iat, Exp           int64
			}
			if err := json.Unmarshal(payload, &c); err != nil {
				t.Fatal(err)
			}
			if c.Iss != `c"1` || c.Sub != `c"1` || c.Aud != "http://127.0.0.1/oauth/token" || c.Iat != now.Unix() ||
				c.Exp != now.Unix()+60 || len(c.Jti) != 22 {
				t.Errorf("got claims %+v", c)
			}
			if kid := jws.Signatures[0].Protected.KeyID; kid != "k-1" {
				t.Errorf("kid: got %q, want k-1", kid)
			}
		})
	}
	for _, tt := range []struct{ key, alg string }{{"P-384", ""}, {"RS256", "ES256"}} {
		if _, err := newAssertionSigner(benchKeys()[tt.key], tt.alg, "", "c", "http://x"); err == nil {
			t.Errorf("a %s key with alg %q: got no error", tt.key, tt.alg)
		}
	}
}

// TestProofSigner checks the lean proofs with package dpop, as the server
// checks them.
func TestProofSigner(t *testing.T) {
	url := "http://127.0.0.1:8080/oauth/token"
	p, err := newProofSigner(benchKeys()["ES256"], url)
	if err != nil {
		t.Fatal(err)
	}
	f := newFreshParts(&signers{dpop: p})
	seen := map[string]bool{}
	for _, nonce := range []string{"", `n"1`} {
		f.setNonce(nonce)
		if nonce == "" {
			f.nonce = nil
		}
		if err := f.next(time.Now()); err != nil {
			t.Fatal(err)
		}
		want := dpop.Check{Method: "POST", URL: url}
		if nonce != "" {
			want.Nonce = func(n string) bool { return n == nonce }
		}
		got, err := dpop.Verify(string(f.proof), want)
		if err != nil {
			t.Fatalf("nonce %q: %v", nonce, err)
		}
		if got.JKT != p.jkt || seen[got.JTI] {
			t.Errorf("got jkt %s and jti %s, want %s and a new jti", got.JKT, got.JTI, p.jkt)
		}
		seen[got.JTI] = true
	}
}

// keyServer is a token endpoint for client "client" with a registered
// public key: it checks every assertion and DPoP proof as gatehouse does,
// asks each new connection's first proof for a nonce, and refuses a jti
// seen before.
type keyServer struct {
	pub   crypto.PublicKey
	nonce string

	mu   sync.Mutex
	jtis map[string]bool
	errs []string
}

func (k *keyServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if err := k.check(r); err != nil {
		k.mu.Lock()
		k.errs = append(k.errs, err.Error())
		k.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"invalid_client"}`)
		return
	}
	proof, err := dpop.Verify(r.Header.Get("DPoP"), dpop.Check{Method: "POST", URL: endpoint(r),
		Nonce: func(n string) bool { return n == k.nonce }})
	switch {
	case errors.Is(err, dpop.ErrUseNonce):
		w.Header().Set("DPoP-Nonce", k.nonce)
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"use_dpop_nonce"}`)
		return
	case err != nil || !k.use("dpop:"+proof.JTI):
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_dpop_proof"}`)
		return
	}
	io.WriteString(w, `{"access_token":"x.y.z","token_type":"DPoP","expires_in":900}`)
}

func (k *keyServer) check(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return err
	}
	f := r.PostForm
	if f.Get("client_id") != "client" || f.Get("client_secret") != "" || f.Get("client_assertion_type") != clientAssertionType {
		return fmt.Errorf("form %v", f)
	}
	jws, err := jose.ParseSigned(f.Get("client_assertion"), []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.EdDSA})
	if err != nil {
		return err
	}
	payload, err := jws.Verify(k.pub)
	if err != nil {
		return err
	}
	var c struct{ Iss, Sub, Aud, Jti string }
	if err := json.Unmarshal(payload, &c); err != nil {
		return err
	}
	if c.Iss != "client" || c.Sub != "client" || c.Aud != endpoint(r) || !k.use("jwt:"+c.Jti) {
		return fmt.Errorf("claims %+v", c)
	}
	return nil
}

// endpoint is the URL r was sent to.
func endpoint(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host + r.URL.Path
	}
	return "http://" + r.Host + r.URL.Path
}

// use reports whether id is new, and remembers it.
func (k *keyServer) use(id string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.jtis[id] {
		return false
	}
	k.jtis[id] = true
	return true
}

func TestTokenPrivateKeyJWTAndDPoP(t *testing.T) {
	// RS256 is left to the signer test and the live one: a slow signature
	// on a loaded machine leaves this short run without tokens.
	for _, alg := range []string{"ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			ks := &keyServer{pub: benchKeys()[alg].Public(), nonce: "n-1", jtis: map[string]bool{}}
			srv, _ := newServerFor(t, ks)
			o := quickOpts(srv.URL)
			o.Duration = 300 * time.Millisecond
			o.ClientSecret, o.Auth, o.Key, o.Alg, o.KeyID, o.DPoP = "", AuthPrivateKeyJWT, benchKeys()[alg], alg, "k1", true
			res, err := Token(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if res.OK == 0 || len(ks.errs) > 0 || res.AssertionAlg != alg || !res.DPoP {
				t.Fatalf("got %d tokens, alg %q, dpop %v, failures %+v, server errors %q", res.OK, res.AssertionAlg, res.DPoP, res.Failures, ks.errs)
			}
			// Each worker meets the nonce once, then keeps it.
			for _, f := range res.Failures {
				if f.Error != "use_dpop_nonce" || f.Count > uint64(o.Concurrency) {
					t.Errorf("failures: got %+v, want at most %d use_dpop_nonce", res.Failures, o.Concurrency)
				}
			}
			if want := 2*int(res.OK) + int(res.Requests-res.OK); len(ks.jtis) != want {
				t.Errorf("distinct jtis: got %d, want %d (one assertion and one proof per token)", len(ks.jtis), want)
			}
		})
	}
}

// TestHTTPExchangerSigns checks the net/http path (https targets) with an
// assertion and a proof at every send.
func TestHTTPExchangerSigns(t *testing.T) {
	ks := &keyServer{pub: benchKeys()["EdDSA"].Public(), nonce: "n-1", jtis: map[string]bool{}}
	srv := httptest.NewTLSServer(ks)
	defer srv.Close()
	o := quickOpts(srv.URL)
	o.ClientSecret, o.Auth, o.Key, o.DPoP = "", AuthPrivateKeyJWT, benchKeys()["EdDSA"], true
	req, err := newTokenRequest(o)
	if err != nil {
		t.Fatal(err)
	}
	r := &runner{opts: o, client: srv.Client(), req: req}
	ex := r.newExchanger()
	want := []int{400, 200, 200} // use_dpop_nonce, then tokens
	for i, w := range want {
		if err := ex.prepare(time.Now()); err != nil {
			t.Fatal(err)
		}
		status, body, err := ex.exchange(context.Background())
		if err != nil || status != w {
			t.Errorf("send %d: got %d %s %v, want %d (server errors %q)", i, status, body, err, w, ks.errs)
		}
	}
	if !strings.HasPrefix(srv.URL, "https://") || len(ks.jtis) != 5 {
		t.Errorf("got %d distinct jtis, want 5", len(ks.jtis))
	}
}

func TestKeyOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(*TokenOptions)
	}{
		{"private_key_jwt without a key", func(o *TokenOptions) { o.Auth = AuthPrivateKeyJWT }},
		{"a key with a secret method", func(o *TokenOptions) { o.Key = benchKeys()["ES256"] }},
		{"an alg that does not fit", func(o *TokenOptions) { o.Auth, o.Key, o.Alg = AuthPrivateKeyJWT, benchKeys()["ES256"], "RS256" }},
		{"a P-384 key", func(o *TokenOptions) { o.Auth, o.Key = AuthPrivateKeyJWT, benchKeys()["P-384"] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := quickOpts("http://127.0.0.1:1")
			tt.edit(&o)
			if _, err := Token(context.Background(), o); err == nil {
				t.Errorf("Token: got no error, want one")
			}
		})
	}
}

// BenchmarkFreshParts is the load generator's cost per request for each
// way of signing: the CPU it takes from a server on the same machine.
func BenchmarkFreshParts(b *testing.B) {
	url := "http://127.0.0.1:8080/oauth/token"
	proofs, err := newProofSigner(benchKeys()["ES256"], url)
	if err != nil {
		b.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		alg  string // of the assertion; "" for none
		dpop bool
	}{{"ES256", "ES256", false}, {"RS256", "RS256", false}, {"DPoP", "", true}, {"ES256+DPoP", "ES256", true}} {
		b.Run(tt.name, func(b *testing.B) {
			var s signers
			if tt.alg != "" {
				if s.assertion, err = newAssertionSigner(benchKeys()[tt.alg], "", "", "client", url); err != nil {
					b.Fatal(err)
				}
			}
			if tt.dpop {
				s.dpop = proofs
			}
			f := newFreshParts(&s)
			b.ReportAllocs()
			for b.Loop() {
				if err := f.next(time.Now()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
