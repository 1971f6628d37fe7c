package assertion

import (
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// benchmarkVerify verifies one client assertion against the client's
// registered keys, as the token endpoint does for private_key_jwt (the
// replay check aside).
func benchmarkVerify(b *testing.B, key string, alg jose.SignatureAlgorithm) {
	keys := clientKeys(b)
	token := sign(b, testKeys()[key], alg, clientClaims(), nil)
	want := clientExpect()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(b.Context(), token, keys, want); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyES256(b *testing.B) { benchmarkVerify(b, "ec", jose.ES256) }

func BenchmarkVerifyRS256(b *testing.B) { benchmarkVerify(b, "rsa", jose.RS256) }
