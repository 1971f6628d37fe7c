package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestVerifyGood(t *testing.T) {
	for _, tt := range []struct{ key, alg string }{
		{"ec", "ES256"}, {"rsa", "RS256"}, {"rsa", "PS256"}, {"ed", "EdDSA"},
	} {
		t.Run(tt.alg, func(t *testing.T) {
			tp := newTestProof(t, tt.key, tt.alg)
			p, err := Verify(tp.String(), resourceCheck())
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			jkt, err := Thumbprint(testKeys()[tt.key].Public())
			if err != nil {
				t.Fatal(err)
			}
			checks := []struct {
				name      string
				got, want any
			}{
				{"JKT", p.JKT, jkt},
				{"JTI", p.JTI, tp.claims["jti"]},
				{"IssuedAt", p.IssuedAt, testNow},
				{"ExpiresAt", p.ExpiresAt, testNow.Add(DefaultWindow + DefaultLeeway)},
				{"Algorithm", p.Algorithm, tt.alg},
				{"Nonce", p.Nonce, ""},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
				}
			}
			if k, ok := p.Key.(interface{ Equal(crypto.PublicKey) bool }); !ok || !k.Equal(testKeys()[tt.key].Public()) {
				t.Errorf("Key: got %T, want the signer's public key", p.Key)
			}
		})
	}
}

// TestVerifyRefused covers each way a proof is refused, and the edges
// that must still pass.
func TestVerifyRefused(t *testing.T) {
	now := testNow.Unix()
	window, leeway := int64(DefaultWindow/time.Second), int64(DefaultLeeway/time.Second)
	ecKey := testKeys()["ec"].(*ecdsa.PrivateKey)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		modify func(p *testProof)
		check  func(c *Check)
		want   error
	}{
		{"good", func(p *testProof) {}, nil, nil},

		{"no typ", func(p *testProof) { delete(p.header, "typ") }, nil, ErrTyp},
		{"typ JWT", func(p *testProof) { p.header["typ"] = "JWT" }, nil, ErrTyp},
		{"typ at+jwt", func(p *testProof) { p.header["typ"] = "at+jwt" }, nil, ErrTyp},
		{"typ in another case", func(p *testProof) { p.header["typ"] = "DPoP+JWT" }, nil, ErrTyp},
		{"typ a number", func(p *testProof) { p.header["typ"] = 1 }, nil, ErrMalformed},

		{"alg none", func(p *testProof) { p.header["alg"], p.alg, p.key = "none", "none", nil }, nil, ErrAlgorithm},
		{"alg HMAC", func(p *testProof) {
			p.header["alg"], p.alg, p.key = "HS256", "HS256", []byte("0123456789abcdef0123456789abcdef")
		}, nil, ErrAlgorithm},
		{"alg ES384", func(p *testProof) {
			k := testKeys()["p384"]
			p.header["alg"], p.alg, p.key, p.header["jwk"] = "ES384", "ES384", k, jwkOf(t, k.Public())
		}, nil, ErrAlgorithm},
		{"alg for another key type", func(p *testProof) { p.header["alg"] = "RS256" }, nil, ErrAlgorithm},
		{"no alg", func(p *testProof) { delete(p.header, "alg") }, nil, ErrAlgorithm},

		{"no jwk", func(p *testProof) { delete(p.header, "jwk") }, nil, ErrKey},
		{"jwk null", func(p *testProof) { p.header["jwk"] = nil }, nil, ErrKey},
		{"jwk a string", func(p *testProof) { p.header["jwk"] = "key" }, nil, ErrKey},
		{"jwk garbled", func(p *testProof) {
			p.header["jwk"] = map[string]any{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}
		}, nil, ErrKey},
		{"private key in jwk", func(p *testProof) { p.header["jwk"] = jwkOf(t, ecKey) }, nil, ErrPrivateKey},
		{"private RSA key in jwk", func(p *testProof) {
			k := testKeys()["rsa"]
			p.header["alg"], p.alg, p.key, p.header["jwk"] = "RS256", "RS256", k, jwkOf(t, k)
		}, nil, ErrPrivateKey},
		{"symmetric key in jwk", func(p *testProof) { p.header["jwk"] = map[string]any{"kty": "oct", "k": "c2VjcmV0"} }, nil, ErrPrivateKey},
		{"RSA key too small", func(p *testProof) {
			p.header["alg"], p.alg, p.key, p.header["jwk"] = "RS256", "RS256", small, jwkOf(t, small.Public())
		}, nil, ErrKey},

		{"signed by another key", func(p *testProof) { p.key = testKeys()["other-ec"] }, nil, ErrSignature},
		{"jwk of another key", func(p *testProof) { p.header["jwk"] = jwkOf(t, testKeys()["other-ec"].Public()) }, nil, ErrSignature},

		{"no jti", func(p *testProof) { delete(p.claims, "jti") }, nil, ErrMissingJTI},
		{"empty jti", func(p *testProof) { p.claims["jti"] = "" }, nil, ErrMissingJTI},
		{"oversized jti", func(p *testProof) { p.claims["jti"] = strings.Repeat("j", MaxJTIBytes+1) }, nil, ErrMalformed},
		{"jti a number", func(p *testProof) { p.claims["jti"] = 7 }, nil, ErrMalformed},

		{"wrong htm", func(p *testProof) { p.claims["htm"] = "POST" }, nil, ErrMethod},
		{"htm in lower case", func(p *testProof) { p.claims["htm"] = "get" }, nil, ErrMethod},
		{"no htm", func(p *testProof) { delete(p.claims, "htm") }, nil, ErrMethod},

		{"wrong htu path", func(p *testProof) { p.claims["htu"] = "https://api.example.io/other" }, nil, ErrURL},
		{"wrong htu host", func(p *testProof) { p.claims["htu"] = "https://evil.example.io/things" }, nil, ErrURL},
		{"wrong htu scheme", func(p *testProof) { p.claims["htu"] = "http://api.example.io/things" }, nil, ErrURL},
		{"wrong htu port", func(p *testProof) { p.claims["htu"] = "https://api.example.io:8443/things" }, nil, ErrURL},
		{"htu with a trailing slash", func(p *testProof) { p.claims["htu"] = testURL + "/" }, nil, ErrURL},
		{"htu relative", func(p *testProof) { p.claims["htu"] = "/things" }, nil, ErrURL},
		{"htu with user info", func(p *testProof) { p.claims["htu"] = "https://u@api.example.io/things" }, nil, ErrURL},
		{"no htu", func(p *testProof) { delete(p.claims, "htu") }, nil, ErrURL},
		{"htu with query and fragment", func(p *testProof) { p.claims["htu"] = testURL + "?a=1#f" }, nil, nil},
		{"htu host in upper case", func(p *testProof) { p.claims["htu"] = "HTTPS://API.Example.IO/things" }, nil, nil},
		{"htu with the default port", func(p *testProof) { p.claims["htu"] = "https://api.example.io:443/things" }, nil, nil},
		{"htu with an escaped letter", func(p *testProof) { p.claims["htu"] = "https://api.example.io/thing%73" }, nil, nil},
		{"htu with a dot segment", func(p *testProof) { p.claims["htu"] = "https://api.example.io/x/../things" }, nil, nil},
		{"request URL with a query", func(p *testProof) {}, func(c *Check) { c.URL = testURL + "?page=2" }, nil},

		{"stale iat", func(p *testProof) { p.claims["iat"] = now - window - leeway }, nil, ErrStale},
		{"oldest iat", func(p *testProof) { p.claims["iat"] = now - window - leeway + 1 }, nil, nil},
		{"future iat", func(p *testProof) { p.claims["iat"] = now + leeway + 1 }, nil, ErrStale},
		{"future iat within leeway", func(p *testProof) { p.claims["iat"] = now + leeway }, nil, nil},
		{"shorter window", func(p *testProof) { p.claims["iat"] = now - 11 }, func(c *Check) { c.Window, c.Leeway = 10*time.Second, -1 }, ErrStale},
		{"no iat", func(p *testProof) { delete(p.claims, "iat") }, nil, ErrMalformed},
		{"iat a string", func(p *testProof) { p.claims["iat"] = "now" }, nil, ErrMalformed},
		{"iat huge", func(p *testProof) { p.claims["iat"] = 1e300 }, nil, ErrStale},
		{"iat negative", func(p *testProof) { p.claims["iat"] = -1 }, nil, ErrStale},

		{"wrong ath", func(p *testProof) { p.claims["ath"] = AccessTokenHash("another token") }, nil, ErrATH},
		{"no ath", func(p *testProof) { delete(p.claims, "ath") }, nil, ErrATH},
		{"ath a number", func(p *testProof) { p.claims["ath"] = 1 }, nil, ErrMalformed},
		{"no ath at the token endpoint", func(p *testProof) { delete(p.claims, "ath") }, func(c *Check) { c.AccessToken = "" }, nil},
		{"ath at the token endpoint", func(p *testProof) {}, func(c *Check) { c.AccessToken = "" }, nil},

		{"nonce required, none sent", func(p *testProof) {}, func(c *Check) { c.Nonce = func(string) bool { return true } }, ErrUseNonce},
		{"unknown nonce", func(p *testProof) { p.claims["nonce"] = "old" }, func(c *Check) { c.Nonce = func(n string) bool { return n == "fresh" } }, ErrUseNonce},
		{"good nonce", func(p *testProof) { p.claims["nonce"] = "fresh" }, func(c *Check) { c.Nonce = func(n string) bool { return n == "fresh" } }, nil},
		{"nonce not required", func(p *testProof) { p.claims["nonce"] = "any" }, nil, nil},
		{"stale proof with a bad nonce", func(p *testProof) { p.claims["iat"] = now - 1000 }, func(c *Check) { c.Nonce = func(string) bool { return false } }, ErrStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := newTestProof(t, "ec", "ES256")
			tt.modify(tp)
			c := resourceCheck()
			if tt.check != nil {
				tt.check(&c)
			}
			p, err := Verify(tp.String(), c)
			if tt.want == nil {
				if err != nil || p == nil {
					t.Fatalf("got %v, want a proof", err)
				}
				return
			}
			if p != nil || !errors.Is(err, tt.want) {
				t.Fatalf("got %v, %v, want %v", p, err, tt.want)
			}
			if invalidProof := errors.Is(err, ErrInvalidProof); invalidProof == (tt.want == ErrUseNonce) {
				t.Errorf("errors.Is(%v, ErrInvalidProof): got %v, want %v", err, invalidProof, tt.want != ErrUseNonce)
			}
			if got := Description(err); got != tt.want.Error() {
				t.Errorf("Description: got %q, want %q", got, tt.want.Error())
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	good := newTestProof(t, "ec", "ES256").String()
	parts := strings.Split(good, ".")
	tests := map[string]string{
		"empty":              "",
		"one part":           parts[0],
		"two parts":          parts[0] + "." + parts[1],
		"four parts":         good + "." + parts[2],
		"header not JSON":    "bm90IGpzb24." + parts[1] + "." + parts[2],
		"header not b64":     "!!!." + parts[1] + "." + parts[2],
		"claims not JSON":    parts[0] + ".bm90IGpzb24." + parts[2],
		"oversized":          parts[0] + "." + strings.Repeat("A", MaxProofBytes) + "." + parts[2],
		"JSON serialization": `{"protected":"` + parts[0] + `","payload":"` + parts[1] + `","signature":"` + parts[2] + `"}`,
	}
	for name, proof := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Verify(proof, resourceCheck())
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrSignature) {
				t.Errorf("got %v, want ErrMalformed or ErrSignature", err)
			}
			if !errors.Is(err, ErrInvalidProof) {
				t.Errorf("got %v, want it to match ErrInvalidProof", err)
			}
		})
	}
}

func TestFromHeader(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   string
		err    error
	}{
		{"one", []string{"a.b.c"}, "a.b.c", nil},
		{"spaces around", []string{" a.b.c "}, "a.b.c", nil},
		{"none", nil, "", ErrNoProof},
		{"two headers", []string{"a.b.c", "d.e.f"}, "", ErrMalformed},
		{"two joined by a proxy", []string{"a.b.c, d.e.f"}, "", ErrMalformed},
		{"empty", []string{""}, "", ErrMalformed},
		{"oversized", []string{strings.Repeat("a", MaxProofBytes+1)}, "", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.values {
				h.Add("DPoP", v)
			}
			got, err := FromHeader(h)
			if got != tt.want || !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Errorf("got %q, %v, want %q, %v", got, err, tt.want, tt.err)
			}
			if err != nil && !errors.Is(err, ErrInvalidProof) {
				t.Errorf("got %v, want it to match ErrInvalidProof", err)
			}
		})
	}
}

// TestNewProof checks that what clients make passes Verify, for every
// algorithm and for a signer go-jose knows only as a crypto.Signer.
func TestNewProof(t *testing.T) {
	tests := []struct {
		name string
		key  crypto.Signer
		alg  string
	}{
		{"ES256", testKeys()["ec"], "ES256"},
		{"RS256", testKeys()["rsa"], "RS256"},
		{"PS256", testKeys()["rsa"], "PS256"},
		{"EdDSA", testKeys()["ed"], "EdDSA"},
		{"opaque signer", opaqueSigner{testKeys()["ec"]}, "ES256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proof, err := NewProof(tt.key, tt.alg, "POST", "https://API.example.io:443/token?x=1#f", "", "n-1", testNow)
			if err != nil {
				t.Fatalf("NewProof: %v", err)
			}
			p, err := Verify(proof, Check{Method: "POST", URL: "https://api.example.io/token", Now: testNow,
				Nonce: func(n string) bool { return n == "n-1" }})
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if want, _ := Thumbprint(tt.key.Public()); p.JKT != want || len(p.JTI) < 16 || p.Nonce != "n-1" {
				t.Errorf("got JKT %q JTI %q nonce %q, want %q, a random jti, n-1", p.JKT, p.JTI, p.Nonce, want)
			}
			if strings.Contains(proof, "x=1") {
				t.Errorf("the proof's htu kept the query")
			}
			again, _ := NewProof(tt.key, tt.alg, "POST", "https://api.example.io/token", "", "", testNow)
			if p2, err := Verify(again, Check{Method: "POST", URL: "https://api.example.io/token", Now: testNow}); err != nil || p2.JTI == p.JTI {
				t.Errorf("second proof: got %v, jti %q again; want a fresh jti", err, p.JTI)
			}
		})
	}
	t.Run("with an access token", func(t *testing.T) {
		proof, err := NewProof(testKeys()["ed"], "EdDSA", "GET", testURL, testToken, "", testNow)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Verify(proof, resourceCheck()); err != nil {
			t.Errorf("got %v, want nil", err)
		}
		c := resourceCheck()
		c.AccessToken = "another"
		if _, err := Verify(proof, c); !errors.Is(err, ErrATH) {
			t.Errorf("another token: got %v, want ErrATH", err)
		}
	})
	for name, call := range map[string]func() error{
		"alg for another key": func() error {
			_, err := NewProof(testKeys()["ec"], "RS256", "GET", testURL, "", "", testNow)
			return err
		},
		"HMAC": func() error {
			_, err := NewProof(testKeys()["ec"], "HS256", "GET", testURL, "", "", testNow)
			return err
		},
		"relative URL": func() error {
			_, err := NewProof(testKeys()["ec"], "ES256", "GET", "/things", "", "", testNow)
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			if err := call(); err == nil {
				t.Errorf("got nil, want an error")
			}
		})
	}
}

// opaqueSigner hides the key's type, as a KMS-backed signer does.
type opaqueSigner struct{ crypto.Signer }

func TestThumbprint(t *testing.T) {
	// RFC 7638 §3.1's example key and thumbprint.
	const n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	nb, _ := jwkBigInt(n)
	got, err := Thumbprint(&rsa.PublicKey{N: nb, E: 65537})
	if want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; err != nil || got != want {
		t.Errorf("got %q, %v, want %q", got, err, want)
	}
	if _, err := Thumbprint("not a key"); err == nil {
		t.Errorf("a string: got nil, want an error")
	}
	if _, err := Thumbprint(testKeys()["ec"]); err == nil {
		t.Errorf("a private key: got nil, want an error")
	}
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	a, _ := Thumbprint(k.Public())
	b, _ := Thumbprint(&k.PublicKey)
	if a == "" || a != b {
		t.Errorf("got %q and %q for one key, want one thumbprint", a, b)
	}
}

func TestAlgorithms(t *testing.T) {
	got := Algorithms()
	if strings.Join(got, " ") != "ES256 EdDSA PS256 RS256 Ed25519" {
		t.Errorf("got %v", got)
	}
	got[0] = "none"
	if Algorithms()[0] != "ES256" {
		t.Errorf("Algorithms shares its slice with callers")
	}
}

func BenchmarkVerifyES256(b *testing.B) {
	proof, err := NewProof(testKeys()["ec"], "ES256", testMethod, testURL, testToken, "", testNow)
	if err != nil {
		b.Fatal(err)
	}
	c := resourceCheck()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(proof, c); err != nil {
			b.Fatal(err)
		}
	}
}
