package dpop

import (
	"errors"
	"strings"
	"testing"
)

// FuzzVerify checks that no input panics, that every refusal is
// ErrInvalidProof or ErrUseNonce with no proof, and that anything accepted
// carries a thumbprint, a jti and a key.
func FuzzVerify(f *testing.F) {
	for _, k := range []struct{ key, alg string }{{"ec", "ES256"}, {"rsa", "PS256"}, {"ed", "EdDSA"}} {
		tp := newTestProof(f, k.key, k.alg)
		good := tp.String()
		parts := strings.Split(good, ".")
		f.Add(good)
		f.Add(good[:len(good)-2])
		f.Add(parts[0] + "." + parts[1] + ".")
		f.Add(parts[1] + "." + parts[0] + "." + parts[2])
		tp.header["typ"] = "JWT"
		f.Add(tp.String())
		tp.header["typ"], tp.header["alg"], tp.alg, tp.key = ProofType, "HS256", "HS256", []byte("secret")
		f.Add(tp.String())
	}
	f.Add("")
	f.Add("..")
	f.Add("eyJhbGciOiJub25lIiwidHlwIjoiZHBvcCtqd3QifQ.e30.")
	f.Fuzz(func(t *testing.T, proof string) {
		p, err := Verify(proof, resourceCheck())
		if err != nil {
			if p != nil {
				t.Fatalf("got proof %+v with error %v", p, err)
			}
			if !errors.Is(err, ErrInvalidProof) && !errors.Is(err, ErrUseNonce) {
				t.Fatalf("got %v, want ErrInvalidProof or ErrUseNonce", err)
			}
			return
		}
		if p.JKT == "" || p.JTI == "" || p.Key == nil || p.IssuedAt.IsZero() {
			t.Fatalf("accepted an incomplete proof %+v", p)
		}
	})
}
