package keys_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/gatehouse/gatehouse/internal/keys"
	"github.com/gatehouse/gatehouse/internal/store"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func testKEK(t *testing.T) *keys.KEK {
	t.Helper()
	return mustKEK(t, base64.StdEncoding.EncodeToString(rawKEK))
}

func generate(t *testing.T, alg, state string, kek *keys.KEK) store.SigningKey {
	t.Helper()
	sk, err := keys.Generate(alg, state, t0, kek)
	if err != nil {
		t.Fatalf("Generate(%s): got %v, want nil", alg, err)
	}
	return sk
}

// verifyJWS checks a compact JWS (signed by hand, keys/sign.go) with jwx
// and with go-jose against the published JWK, and returns its payload and
// protected header.
func verifyJWS(t *testing.T, compact string, k *keys.Key) ([]byte, jws.Headers) {
	t.Helper()
	doc, err := json.Marshal(k.JWK())
	if err != nil {
		t.Fatalf("marshalling the JWK: %v", err)
	}
	pub, err := jwk.ParseKey(doc)
	if err != nil {
		t.Fatalf("jwx parsing the JWK %s: %v", doc, err)
	}
	alg, ok := jwa.LookupSignatureAlgorithm(k.Alg)
	if !ok {
		t.Fatalf("jwx does not know %s", k.Alg)
	}
	payload, err := jws.Verify([]byte(compact), jws.WithKey(alg, pub))
	if err != nil {
		t.Fatalf("jwx verifying the %s token: got %v, want nil", k.Alg, err)
	}
	jo, err := jose.ParseSigned(compact, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(k.Alg)})
	if err != nil {
		t.Fatalf("go-jose parsing the %s token: got %v, want nil", k.Alg, err)
	}
	if got, err := jo.Verify(k.JWK()); err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("go-jose verifying the %s token: got %v, want the payload jwx saw", k.Alg, err)
	}
	msg, err := jws.Parse([]byte(compact))
	if err != nil || len(msg.Signatures()) != 1 {
		t.Fatalf("jwx parsing: got %v, want one signature", err)
	}
	return payload, msg.Signatures()[0].ProtectedHeaders()
}

func TestGenerateOpenSign(t *testing.T) {
	kek := testKEK(t)
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			sk := generate(t, alg, store.KeyNext, kek)
			if sk.Alg != alg || sk.State != store.KeyNext || sk.KID == "" {
				t.Errorf("Generate: got alg %q state %q kid %q, want %s next and a kid", sk.Alg, sk.State, sk.KID, alg)
			}
			if !sk.CreatedAt.Equal(t0) || !sk.ActivatesAt.Equal(t0) {
				t.Errorf("times: got %v / %v, want %v", sk.CreatedAt, sk.ActivatesAt, t0)
			}
			if len(sk.PublicKey) == 0 || len(sk.PrivateKey) == 0 {
				t.Fatalf("Generate: got empty key material")
			}
			k, err := keys.Open(sk, kek)
			if err != nil {
				t.Fatalf("Open: got %v, want nil", err)
			}
			if k.KID != sk.KID || k.Alg != alg || k.State != store.KeyNext {
				t.Errorf("Open: got %s %s %s, want %s %s next", k.KID, k.Alg, k.State, sk.KID, alg)
			}
			payload := []byte(`{"iss":"https://auth.example.io","sub":"abc@clients"}`)
			compact, err := k.Sign(payload)
			if err != nil {
				t.Fatalf("Sign: got %v, want nil", err)
			}
			if n := strings.Count(compact, "."); n != 2 {
				t.Fatalf("Sign: got %d dots, want a compact JWS", n)
			}
			got, hdr := verifyJWS(t, compact, k)
			if !bytes.Equal(got, payload) {
				t.Errorf("payload: got %s, want %s", got, payload)
			}
			if typ, _ := hdr.Type(); typ != "at+jwt" {
				t.Errorf("typ: got %q, want at+jwt", typ)
			}
			if kid, _ := hdr.KeyID(); kid != sk.KID {
				t.Errorf("kid: got %q, want %q", kid, sk.KID)
			}
			if a, _ := hdr.Algorithm(); a.String() != alg {
				t.Errorf("alg: got %q, want %q", a, alg)
			}

			// A changed payload must not verify.
			parts := strings.Split(compact, ".")
			parts[1] = base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin@clients"}`))
			pub, _ := json.Marshal(k.JWK())
			jk, _ := jwk.ParseKey(pub)
			ja, _ := jwa.LookupSignatureAlgorithm(alg)
			if _, err := jws.Verify([]byte(strings.Join(parts, ".")), jws.WithKey(ja, jk)); err == nil {
				t.Errorf("tampered token: got verified, want an error")
			}
		})
	}
}

func TestGenerateKIDsDiffer(t *testing.T) {
	kek := testKEK(t)
	a, b := generate(t, "EdDSA", store.KeyCurrent, kek), generate(t, "EdDSA", store.KeyCurrent, kek)
	if a.KID == b.KID {
		t.Errorf("two keys: got the same kid %q", a.KID)
	}
}

func TestGenerateUnsupported(t *testing.T) {
	for _, alg := range []string{"HS256", "none", "", "rs256"} {
		if _, err := keys.Generate(alg, store.KeyNext, t0, testKEK(t)); err == nil {
			t.Errorf("Generate(%q): got nil, want an error", alg)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	kek := testKEK(t)
	other := mustKEK(t, base64.StdEncoding.EncodeToString(make([]byte, keys.KEKSize)))
	sk := generate(t, "ES256", store.KeyCurrent, kek)

	if _, err := keys.Open(sk, other); !errors.Is(err, keys.ErrWrongKEK) || !strings.Contains(err.Error(), sk.KID) {
		t.Errorf("another KEK: got %v, want ErrWrongKEK naming the kid", err)
	}
	swapped := sk
	swapped.KID = "another-kid"
	if _, err := keys.Open(swapped, kek); !errors.Is(err, keys.ErrWrongKEK) {
		t.Errorf("sealed key moved to another kid: got %v, want ErrWrongKEK", err)
	}
	mislabelled := sk
	mislabelled.Alg = "EdDSA"
	if _, err := keys.Open(mislabelled, kek); err == nil {
		t.Errorf("ES256 key labelled EdDSA: got nil, want an error")
	}
	tampered := sk
	tampered.PrivateKey = bytes.Clone(sk.PrivateKey)
	tampered.PrivateKey[len(tampered.PrivateKey)-1] ^= 0xff
	if _, err := keys.Open(tampered, kek); !errors.Is(err, keys.ErrWrongKEK) {
		t.Errorf("tampered private key: got %v, want ErrWrongKEK", err)
	}
}
