package verify

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// FuzzVerify checks that no input panics and that anything accepted is a
// token the issuer signed for this audience; everything else must be
// refused with an error matching ErrInvalidToken. The clock stands still,
// so unknown kids cause no JWKS fetch after the first.
func FuzzVerify(f *testing.F) {
	fi := newIssuer(f, newClock())
	v := newTestVerifier(f, fi)
	for _, name := range []string{"rsa", "ec", "ed"} {
		tok := fi.token(f, testKeys()[name], fi.claims(), nil)
		parts := strings.Split(tok, ".")
		f.Add(tok)
		f.Add(tok[:len(tok)-3])
		f.Add(parts[0] + "." + parts[1] + ".")
		f.Add(parts[1] + "." + parts[0] + "." + parts[2])
		f.Add(tok + "." + parts[2])
	}
	f.Add("")
	f.Add("..")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("eyJhbGciOiJIUzI1NiIsImtpZCI6InJzYS0xIiwidHlwIjoiYXQrand0In0.e30.AAAA")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(t.Context(), token)
		if err != nil {
			if c != nil {
				t.Fatalf("got claims %+v with error %v, want nil claims", c, err)
			}
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("got error %v, want one matching ErrInvalidToken", err)
			}
			return
		}
		if c.Issuer != fi.srv.URL || !slices.Contains(c.Audience, testAudience) || c.ClientID == "" {
			t.Fatalf("accepted claims %+v", c)
		}
	})
}
