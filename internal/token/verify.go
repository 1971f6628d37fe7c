package token

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// ErrInvalidToken is any reason a presented JWT is not accepted.
var ErrInvalidToken = errors.New("invalid token")

var signingAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

// leeway tolerates small clock differences.
const leeway = 30 * time.Second

// Verify checks a JWT that this gatehouse issued for audience (any
// audience when it is ""): signature by a published key of the header's
// algorithm, typ, iss, aud, exp and iat.
func (i *Issuer) Verify(raw, audience string) (*Claims, error) {
	jws, err := jose.ParseSignedCompact(raw, signingAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: malformed", ErrInvalidToken)
	}
	h := jws.Signatures[0].Protected
	key := i.Keys.Lookup(h.KeyID)
	if key == nil || key.Alg != h.Algorithm {
		return nil, fmt.Errorf("%w: unknown key", ErrInvalidToken)
	}
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, "at+jwt") {
		return nil, fmt.Errorf("%w: not an access token", ErrInvalidToken)
	}
	payload, err := jws.Verify(key.Public)
	if err != nil {
		return nil, fmt.Errorf("%w: bad signature", ErrInvalidToken)
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("%w: malformed claims", ErrInvalidToken)
	}
	now := i.now()
	switch {
	case c.Issuer != i.IssuerURL:
		return nil, fmt.Errorf("%w: wrong issuer", ErrInvalidToken)
	case audience != "" && c.Audience != audience:
		return nil, fmt.Errorf("%w: wrong audience", ErrInvalidToken)
	case now.After(time.Unix(c.Expiry, 0).Add(leeway)):
		return nil, fmt.Errorf("%w: expired", ErrInvalidToken)
	case now.Add(leeway).Before(time.Unix(c.IssuedAt, 0)):
		return nil, fmt.Errorf("%w: issued in the future", ErrInvalidToken)
	}
	return &c, nil
}

// HasScope reports whether the token carries scope s.
func (c *Claims) HasScope(s string) bool {
	for _, have := range strings.Fields(c.Scope) {
		if have == s {
			return true
		}
	}
	return false
}
