package keys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestRawECDSA(t *testing.T) {
	big32 := bytes.Repeat([]byte{0xff}, 32)
	tests := []struct {
		name  string
		r, s  *big.Int
		want  []byte // nil: an error
		extra []byte // bytes after the sequence
	}{
		{"high bit set (ASN.1 adds a zero byte)", new(big.Int).SetBytes(big32), big.NewInt(1),
			append(append([]byte{}, big32...), append(make([]byte, 31), 1)...), nil},
		{"short values are left-padded", big.NewInt(0x0102), big.NewInt(3),
			append(append(make([]byte, 30), 1, 2), append(make([]byte, 31), 3)...), nil},
		{"too long for P-256", new(big.Int).Lsh(big.NewInt(1), 264), big.NewInt(1), nil, nil},
		{"trailing bytes", big.NewInt(1), big.NewInt(1), nil, []byte{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			der, err := asn1.Marshal(struct{ R, S *big.Int }{tt.r, tt.s})
			if err != nil {
				t.Fatal(err)
			}
			got, err := rawECDSA(nil, append(der, tt.extra...))
			if tt.want == nil {
				if err == nil {
					t.Errorf("got %x, want an error", got)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tt.want) {
				t.Errorf("got %x, %v; want %x", got, err, tt.want)
			}
		})
	}
	if _, err := rawECDSA(nil, []byte("not asn.1")); err == nil {
		t.Errorf("garbage: got nil, want an error")
	}
}

func TestOpenRefusesAnotherCurve(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkAlg("ES256", k); err == nil || !strings.Contains(err.Error(), "ES256") {
		t.Errorf("a P-384 key for ES256: got %v, want a refusal", err)
	}
}

// BenchmarkSign is one token signature by each algorithm, with its
// allocations (go-jose's signer took about 65 for ES256).
func BenchmarkSign(b *testing.B) {
	kek, err := ParseKEK(base64.StdEncoding.EncodeToString(make([]byte, 32)), "test")
	if err != nil {
		b.Fatal(err)
	}
	payload := []byte(`{"iss":"https://auth.example.io","sub":"abc@clients","aud":"https://api.example.io","scope":"read"}`)
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		b.Run(alg, func(b *testing.B) {
			sk, err := Generate(alg, "current", time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC), kek)
			if err != nil {
				b.Fatal(err)
			}
			k, err := Open(sk, kek)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.Sign(payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
