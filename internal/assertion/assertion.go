package assertion

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/jwks"
)

// DefaultLeeway is the clock skew allowed on exp, nbf, iat and MaxAge when
// Expect.Leeway is zero: the same as verify.DefaultLeeway, so gatehouse
// has one notion of skew.
const DefaultLeeway = 30 * time.Second

// maxTokenBytes bounds the token read by Verify and Peek. Kubernetes,
// GitHub Actions and SPIFFE tokens are a few kilobytes at most.
const maxTokenBytes = 16 << 10

// maxCandidates bounds the signature checks one token may cost, when no
// kid (or a kid shared by many keys) leaves several keys to try.
const maxCandidates = 8

// defaultAlgs is what Expect.Algs empty allows: the algorithms DESIGN §8
// names for client assertions.
var defaultAlgs = []string{"RS256", "PS256", "ES256", "EdDSA"}

// DefaultAlgs returns the algorithms allowed when Expect.Algs is empty:
// RS256, PS256, ES256, EdDSA (also under RFC 9864's name Ed25519).
func DefaultAlgs() []string { return slices.Clone(defaultAlgs) }

// AdvertisedAlgs are DefaultAlgs with RFC 9864's Ed25519, for metadata.
func AdvertisedAlgs() []string { return append(DefaultAlgs(), jwks.Ed25519) }

// A KeyFinder finds the keys that may have signed with kid and alg (kid
// may be empty); *jwks.Set and *jwks.Remote are KeyFinders. An error means
// the keys could not be had; no key found is an empty result.
type KeyFinder interface {
	Lookup(ctx context.Context, kid, alg string) ([]jwks.Key, error)
}

// Expect says which assertions Verify accepts.
type Expect struct {
	// Issuer is the exact "iss" required; empty accepts any (the caller
	// then checks Claims.Issuer itself).
	Issuer string
	// Subject is the exact "sub" required; empty accepts any.
	Subject string
	// Audiences: "aud" must hold at least one of them. Required.
	Audiences []string
	// Algs are the "alg" values allowed; empty means DefaultAlgs. Values
	// that are not asymmetric signature algorithms (jwks.SignatureAlgorithms)
	// are ignored: "none" and HMAC are never allowed.
	Algs []string
	// Type, when set, is the "typ" header required, compared without case
	// and with or without an "application/" prefix (RFC 7515 §4.1.9).
	Type string
	// MaxLifetime, when set, bounds exp - iat, and iat is then required.
	// It bounds how long a jti must be remembered.
	MaxLifetime time.Duration
	// MaxAge, when set, bounds now - iat (leeway added), and iat is then
	// required.
	MaxAge time.Duration
	// RequireJTI refuses an assertion without "jti".
	RequireJTI bool
	// Leeway is the clock skew allowed when exp, nbf, iat and MaxAge are
	// compared with now. Zero means DefaultLeeway; negative means none.
	Leeway time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Verify checks the signature of raw, a compact JWS, with a key from keys,
// then its claims against want, and returns the claims. The headers are
// checked before any key is looked up, so that a token refused anyway
// causes no JWKS fetch; jku, x5u, jwk and x5c are never read. Every
// refusal wraps one of the Err* reasons.
func Verify(ctx context.Context, raw string, keys KeyFinder, want Expect) (*Claims, error) {
	if raw == "" || len(raw) > maxTokenBytes {
		return nil, refuse(ErrMalformed, "empty or larger than %d bytes", maxTokenBytes)
	}
	if len(want.Audiences) == 0 {
		return nil, refuse(ErrAudience, "no audience expected (Expect.Audiences is empty)")
	}
	algs := allowedAlgs(want.Algs)
	if len(algs) == 0 {
		return nil, refuse(ErrAlgorithm, "Expect.Algs %q allows no asymmetric signature algorithm", want.Algs)
	}
	jws, err := parseCompact(raw, algs)
	if err != nil {
		return nil, err
	}
	if jws.crit {
		return nil, refuse(ErrMalformed, "crit header: no extension is understood")
	}
	if want.Type != "" && !isType(jws.typ, want.Type) {
		return nil, refuse(ErrType, "typ %v, want %q", jws.typ, want.Type)
	}
	payload, err := verifySignature(ctx, jws, keys)
	if err != nil {
		return nil, err
	}
	c, err := decodeClaims(payload)
	if err != nil {
		return nil, err
	}
	c.KeyID, c.Algorithm = jws.kid, jws.alg
	if err := check(c, &want); err != nil {
		return nil, err
	}
	return c, nil
}

// allowedAlgs keeps the asymmetric signature algorithms of algs (or of
// DefaultAlgs when algs is empty).
func allowedAlgs(algs []string) []jose.SignatureAlgorithm {
	if len(algs) == 0 {
		algs = defaultAlgs
	}
	supported := jwks.SignatureAlgorithms()
	var out []jose.SignatureAlgorithm
	for _, a := range algs {
		if alg := jose.SignatureAlgorithm(a); slices.Contains(supported, alg) && !slices.Contains(out, alg) {
			out = append(out, alg)
		}
	}
	return out
}

// isType compares a typ header with the wanted one (RFC 7515 §4.1.9: the
// "application/" prefix may be left out, and media types ignore case).
func isType(typ any, want string) bool {
	s, ok := typ.(string)
	if !ok {
		return false
	}
	want = strings.TrimPrefix(strings.ToLower(want), "application/")
	s = strings.ToLower(s)
	return s == want || s == "application/"+want
}

// compact is a parsed compact JWS: the headers Verify reads, and how to
// check its signature with a key.
type compact struct {
	kid, alg string
	typ      any
	crit     bool
	verify   func(key crypto.PublicKey) ([]byte, error)
}

// parseCompact reads raw's protected header and keeps its signature for
// verifySignature. Ed25519 (RFC 9864's name for EdDSA with an Ed25519 key,
// unknown to go-jose) is read here and checked by jwks.VerifyEd25519;
// every other algorithm goes through go-jose.
func parseCompact(raw string, algs []jose.SignatureAlgorithm) (*compact, error) {
	if jwks.CompactAlg(raw) == jwks.Ed25519 && slices.Contains(algs, jose.EdDSA) {
		h, _, _ := strings.Cut(raw, ".")
		hb, err := base64.RawURLEncoding.DecodeString(h)
		var header map[string]any
		if err != nil || strings.Count(raw, ".") != 2 || json.Unmarshal(hb, &header) != nil {
			return nil, refuse(ErrMalformed, "not a compact JWS")
		}
		kid, _ := header["kid"].(string)
		_, crit := header["crit"]
		return &compact{kid: kid, alg: jwks.Ed25519, typ: header["typ"], crit: crit,
			verify: func(key crypto.PublicKey) ([]byte, error) { return jwks.VerifyEd25519(raw, key) }}, nil
	}
	jws, err := jose.ParseSignedCompact(raw, algs)
	if err != nil {
		if _, ok := errors.AsType[*jose.ErrUnexpectedSignatureAlgorithm](err); ok {
			return nil, refuse(ErrAlgorithm, "%v", err)
		}
		return nil, refuse(ErrMalformed, "%v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, refuse(ErrMalformed, "want exactly one signature")
	}
	h := jws.Signatures[0].Protected
	_, crit := h.ExtraHeaders["crit"]
	return &compact{kid: h.KeyID, alg: h.Algorithm, typ: h.ExtraHeaders[jose.HeaderType], crit: crit,
		verify: func(key crypto.PublicKey) ([]byte, error) { return jws.Verify(key) }}, nil
}

// verifySignature tries each key that may have signed jws, and returns
// the verified payload.
func verifySignature(ctx context.Context, jws *compact, keys KeyFinder) ([]byte, error) {
	kid, alg := jws.kid, jws.alg
	candidates, err := keys.Lookup(ctx, kid, alg)
	if err != nil {
		return nil, refuse(ErrUnknownKey, "kid %q, alg %s: %w", kid, alg, err)
	}
	if len(candidates) == 0 {
		return nil, refuse(ErrUnknownKey, "no key with kid %q verifies %s", kid, alg)
	}
	if len(candidates) > maxCandidates {
		return nil, refuse(ErrUnknownKey, "%d keys could verify %s with kid %q; at most %d are tried, a kid must tell them apart",
			len(candidates), alg, kid, maxCandidates)
	}
	for _, k := range candidates {
		// A KeyFinder other than jwks's might return a key unfit for alg.
		if !k.CanVerify(alg) {
			continue
		}
		if payload, err := jws.verify(k.Public); err == nil {
			return payload, nil
		}
	}
	return nil, refuse(ErrSignature, "kid %q, alg %s, %d candidate keys", kid, alg, len(candidates))
}

// check holds the verified claims to want, on want's clock.
func check(c *Claims, want *Expect) error {
	leeway := want.Leeway
	switch {
	case leeway == 0:
		leeway = DefaultLeeway
	case leeway < 0:
		leeway = 0
	}
	now := time.Now()
	if want.Now != nil {
		now = want.Now()
	}
	c.AcceptedUntil = c.Expiry.Add(leeway)
	switch {
	case want.Issuer != "" && c.Issuer != want.Issuer:
		return refuse(ErrIssuer, "iss %q, want %q", c.Issuer, want.Issuer)
	case want.Subject != "" && c.Subject != want.Subject:
		return refuse(ErrSubject, "sub %q, want %q", c.Subject, want.Subject)
	case !slices.ContainsFunc(c.Audience, func(a string) bool { return slices.Contains(want.Audiences, a) }):
		return refuse(ErrAudience, "aud %q, want one of %q", c.Audience, want.Audiences)
	case !now.Before(c.AcceptedUntil):
		return refuse(ErrExpired, "exp %s, now %s", stamp(c.Expiry), stamp(now))
	case now.Add(leeway).Before(c.NotBefore):
		return refuse(ErrNotYetValid, "nbf %s, now %s", stamp(c.NotBefore), stamp(now))
	case now.Add(leeway).Before(c.IssuedAt):
		return refuse(ErrNotYetValid, "iat %s, now %s", stamp(c.IssuedAt), stamp(now))
	case want.MaxLifetime > 0 && c.IssuedAt.IsZero():
		return refuse(ErrLifetime, "no iat, so the lifetime is unknown")
	case want.MaxLifetime > 0 && c.Expiry.Sub(c.IssuedAt) > want.MaxLifetime:
		return refuse(ErrLifetime, "exp - iat = %v, at most %v", c.Expiry.Sub(c.IssuedAt), want.MaxLifetime)
	case want.MaxAge > 0 && c.IssuedAt.IsZero():
		return refuse(ErrTooOld, "no iat, so the age is unknown")
	case want.MaxAge > 0 && now.Sub(c.IssuedAt) > want.MaxAge+leeway:
		return refuse(ErrTooOld, "issued %v ago, at most %v", now.Sub(c.IssuedAt).Round(time.Second), want.MaxAge)
	case want.RequireJTI && c.JTI == "":
		return refuse(ErrMissingJTI, "sub %q", c.Subject)
	}
	return nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
