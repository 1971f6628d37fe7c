package assertion

import (
	"errors"
	"slices"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// reasons are every error Verify may refuse with.
var reasons = []error{ErrMalformed, ErrType, ErrAlgorithm, ErrUnknownKey, ErrSignature, ErrIssuer, ErrSubject,
	ErrAudience, ErrExpired, ErrNotYetValid, ErrLifetime, ErrTooOld, ErrMissingJTI}

// seeds are assertions, good and broken, for both fuzz tests.
func seeds(f *testing.F) []string {
	k := testKeys()
	var out []string
	for _, name := range []string{"rsa", "ec", "ed"} {
		tok := sign(f, k[name], k[name].alg, clientClaims(), nil)
		parts := strings.Split(tok, ".")
		out = append(out, tok, tok[:len(tok)-3], parts[0]+"."+parts[1]+".", parts[1]+"."+parts[0]+"."+parts[2], tok+"."+parts[2])
	}
	out = append(out,
		sign(f, noKid(k["ec2"]), jose.ES256, clientClaims(), nil),
		sign(f, k["rsa-no-alg"], jose.PS256, clientClaims(), map[string]any{"typ": "JWT", "jku": "https://evil.example"}),
		"", "..", "e30.e30.", "eyJhbGciOiJub25lIn0.e30.",
		"eyJhbGciOiJIUzI1NiIsImtpZCI6InJzYS0xIn0.e30.AAAA",
	)
	return out
}

// FuzzVerify checks that no input panics Verify, that every refusal
// carries one of the reasons, and that anything accepted was signed by the
// client for gatehouse and is within its lifetime.
func FuzzVerify(f *testing.F) {
	keys := clientKeys(f)
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		want := clientExpect()
		c, err := Verify(t.Context(), token, keys, want)
		if err != nil {
			if c != nil {
				t.Fatalf("got claims %+v with error %v", c, err)
			}
			if !slices.ContainsFunc(reasons, func(r error) bool { return errors.Is(err, r) }) {
				t.Fatalf("error %v carries no reason", err)
			}
			return
		}
		if c.Issuer != testClient || c.Subject != testClient || c.JTI == "" ||
			!slices.ContainsFunc(c.Audience, func(a string) bool { return slices.Contains(want.Audiences, a) }) ||
			c.Expiry.Sub(c.IssuedAt) > want.MaxLifetime || !testNow.Before(c.AcceptedUntil) {
			t.Fatalf("accepted claims %+v", c)
		}
		iss, sub, err := Peek(token)
		if err != nil || iss != c.Issuer || sub != c.Subject {
			t.Fatalf("Peek of an accepted token: got (%q, %q, %v), want (%q, %q, nil)", iss, sub, err, c.Issuer, c.Subject)
		}
	})
}

// FuzzPeek checks that no input panics Peek and that it refuses only with
// ErrMalformed.
func FuzzPeek(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		iss, sub, err := Peek(token)
		if err != nil && (!errors.Is(err, ErrMalformed) || iss != "" || sub != "") {
			t.Fatalf("Peek: got (%q, %q, %v)", iss, sub, err)
		}
	})
}
