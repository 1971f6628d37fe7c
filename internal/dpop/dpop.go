package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/jwks"
	"github.com/gatehouse/gatehouse/internal/jwtclaim"
	jose "github.com/go-jose/go-jose/v4"
)

// Header names (RFC 9449 §4.1, §8).
const (
	// Header carries the proof on a request.
	Header = "DPoP"
	// NonceHeader carries a server nonce on a response.
	NonceHeader = "DPoP-Nonce"
)

// ProofType is the only typ header a proof may have.
const ProofType = "dpop+jwt"

// Limits on what Verify reads.
const (
	// MaxProofBytes bounds a proof; an RSA-4096 jwk fits well within it.
	MaxProofBytes = 8 << 10
	// MaxJTIBytes bounds the jti, which callers store.
	MaxJTIBytes = 256
	// minRSABits and maxRSABits bound an RSA jwk: big enough to be safe,
	// small enough that verifying cannot be made expensive.
	minRSABits = 2048
	maxRSABits = 8192
)

// Defaults for the zero values of Check.
const (
	// DefaultWindow is how old a proof may be.
	DefaultWindow = time.Minute
	// DefaultLeeway is the clock skew allowed between client and server.
	DefaultLeeway = 30 * time.Second
)

// algorithms are the alg values a proof may use, in the order servers
// advertise them: asymmetric only, so never "none" or HMAC.
var algorithms = []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA, jose.PS256, jose.RS256}

// Algorithms returns the alg values Verify accepts, for
// dpop_signing_alg_values_supported and the algs challenge parameter.
func Algorithms() []string {
	out := make([]string, 0, len(algorithms)+1)
	for _, a := range algorithms {
		out = append(out, string(a))
	}
	return append(out, jwks.Ed25519)
}

// Check is what a proof must match: the request it came with, and the
// server's rules.
type Check struct {
	// Method is the request's method; htm must equal it.
	Method string
	// URL is the request's absolute URL as the client addressed it; htu
	// must equal it, both without query and fragment, after RFC 3986
	// normalization (scheme and host in any case, default ports).
	URL string
	// AccessToken, at a resource server, is the access token the request
	// carries: ath must be its hash. Empty (at the token endpoint) means
	// ath is not checked.
	AccessToken string
	// Nonce, when set, makes a nonce claim required; it reports whether a
	// nonce is acceptable. A missing or refused nonce is ErrUseNonce.
	Nonce func(nonce string) bool
	// Now is the server's time; zero means time.Now().
	Now time.Time
	// Window is how old a proof may be; zero means DefaultWindow.
	Window time.Duration
	// Leeway is the clock skew allowed either way; zero means
	// DefaultLeeway, a negative value none.
	Leeway time.Duration
}

// Proof is a verified proof.
type Proof struct {
	// JKT is the RFC 7638 SHA-256 thumbprint of Key, base64url-encoded:
	// what a bound token's cnf.jkt holds.
	JKT string
	// JTI is the proof's id; the caller makes it single-use per JKT.
	JTI string
	// IssuedAt is the iat claim.
	IssuedAt time.Time
	// ExpiresAt is when the proof stops passing the iat check with the
	// same Check; a replay cache must remember the JTI until then.
	ExpiresAt time.Time
	// Key is the public key of the jwk header.
	Key crypto.PublicKey
	// Algorithm is the alg header.
	Algorithm string
	// Nonce is the nonce claim; empty when there is none.
	Nonce string
}

// FromHeader returns the one DPoP proof of a request. No header is
// ErrNoProof; several (also when a proxy joined them with commas), an
// empty one or an oversized one is ErrMalformed.
func FromHeader(h http.Header) (string, error) {
	values := h.Values(Header)
	switch {
	case len(values) == 0:
		return "", invalid(ErrNoProof, "")
	case len(values) > 1:
		return "", invalid(ErrMalformed, "several DPoP headers")
	}
	proof := strings.TrimSpace(values[0])
	switch {
	case proof == "":
		return "", invalid(ErrMalformed, "empty DPoP header")
	case len(proof) > MaxProofBytes:
		return "", invalid(ErrMalformed, "oversized DPoP header")
	case strings.ContainsAny(proof, ", \t"):
		return "", invalid(ErrMalformed, "several proofs in one DPoP header")
	}
	return proof, nil
}

// header is the protected header of a proof, as Verify reads it before
// go-jose does, so that each refusal names its reason.
type header struct {
	Typ *string         `json:"typ"`
	Alg string          `json:"alg"`
	JWK json.RawMessage `json:"jwk"`
}

// claims are the proof's claims (RFC 9449 §4.2).
type claims struct {
	JTI   string                `json:"jti"`
	HTM   string                `json:"htm"`
	HTU   string                `json:"htu"`
	IAT   *jwtclaim.NumericDate `json:"iat"`
	ATH   *string               `json:"ath"`
	Nonce *string               `json:"nonce"`
}

// Verify checks one proof against want (RFC 9449 §4.3) and returns it.
// Every error matches ErrInvalidProof and a specific reason, or is
// ErrUseNonce. The header is checked before the signature, the claims
// after it, and the nonce last, so that a client told to fetch a nonce
// has sent an otherwise good proof.
func Verify(proof string, want Check) (*Proof, error) {
	if proof == "" || len(proof) > MaxProofBytes {
		return nil, invalid(ErrMalformed, "empty or oversized proof")
	}
	alg, jwk, err := checkHeader(proof)
	if err != nil {
		return nil, err
	}
	payload, err := verifySignature(proof, alg, jwk)
	if err != nil {
		return nil, err
	}
	var c claims
	if err := json.Unmarshal(payload, &c); errors.Is(err, jwtclaim.ErrNumericDate) {
		return nil, invalid(ErrStale, "iat out of range")
	} else if err != nil {
		return nil, invalid(ErrMalformed, "claims: "+err.Error())
	}
	p, err := checkClaims(&c, want)
	if err != nil {
		return nil, err
	}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, invalid(ErrKey, err.Error())
	}
	p.JKT = base64.RawURLEncoding.EncodeToString(sum)
	p.Key = jwk.Key
	p.Algorithm = string(alg)
	return p, nil
}

// verifySignature checks the proof's signature with its jwk. RFC 9864's
// Ed25519 (EdDSA with an Ed25519 key, which go-jose does not know by that
// name) is checked by jwks.VerifyEd25519.
func verifySignature(proof string, alg jose.SignatureAlgorithm, jwk *jose.JSONWebKey) ([]byte, error) {
	if alg == jwks.Ed25519 {
		payload, err := jwks.VerifyEd25519(proof, jwk.Key)
		if err != nil {
			return nil, invalid(ErrSignature, err.Error())
		}
		return payload, nil
	}
	jws, err := jose.ParseSignedCompact(proof, algorithms)
	if err != nil {
		return nil, invalid(ErrMalformed, err.Error())
	}
	if len(jws.Signatures) != 1 {
		return nil, invalid(ErrMalformed, "want exactly one signature")
	}
	payload, err := jws.Verify(jwk.Key)
	if err != nil {
		return nil, invalid(ErrSignature, err.Error())
	}
	return payload, nil
}

// checkHeader reads the protected header: typ exactly dpop+jwt, an
// accepted alg, and a public jwk that fits the alg.
func checkHeader(proof string) (jose.SignatureAlgorithm, *jose.JSONWebKey, error) {
	encoded, _, ok := strings.Cut(proof, ".")
	if !ok {
		return "", nil, invalid(ErrMalformed, "not a compact JWS")
	}
	raw, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil {
		return "", nil, invalid(ErrMalformed, "header: "+err.Error())
	}
	var h header
	if err := json.Unmarshal(raw, &h); err != nil {
		return "", nil, invalid(ErrMalformed, "header: "+err.Error())
	}
	if h.Typ == nil || *h.Typ != ProofType {
		return "", nil, invalid(ErrTyp, "")
	}
	alg := jose.SignatureAlgorithm(h.Alg)
	if !slices.Contains(algorithms, alg) && h.Alg != jwks.Ed25519 {
		return "", nil, invalid(ErrAlgorithm, fmt.Sprintf("alg %q", h.Alg))
	}
	if len(h.JWK) == 0 || string(h.JWK) == "null" {
		return "", nil, invalid(ErrKey, "no jwk header")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(h.JWK, &members); err != nil {
		return "", nil, invalid(ErrKey, "jwk is not an object")
	}
	for _, m := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
		if _, ok := members[m]; ok {
			return "", nil, invalid(ErrPrivateKey, fmt.Sprintf("jwk member %q", m))
		}
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(h.JWK); err != nil {
		return "", nil, invalid(ErrKey, err.Error())
	}
	if !jwk.IsPublic() || !jwk.Valid() {
		return "", nil, invalid(ErrKey, "not a public key")
	}
	if k, ok := jwk.Key.(*rsa.PublicKey); ok && (k.N.BitLen() < minRSABits || k.N.BitLen() > maxRSABits) {
		return "", nil, invalid(ErrKey, fmt.Sprintf("RSA key of %d bits", k.N.BitLen()))
	}
	if !fits(alg, jwk.Key) {
		return "", nil, invalid(ErrAlgorithm, fmt.Sprintf("alg %s does not fit the jwk", alg))
	}
	return alg, &jwk, nil
}

// fits reports whether alg is an accepted algorithm for this type of
// public key.
func fits(alg jose.SignatureAlgorithm, key crypto.PublicKey) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return alg == jose.RS256 || alg == jose.PS256
	case *ecdsa.PublicKey:
		return alg == jose.ES256 && k.Curve == elliptic.P256()
	case ed25519.PublicKey:
		return alg == jose.EdDSA || alg == jwks.Ed25519
	}
	return false
}

// checkClaims checks jti, htm, htu, iat, ath and, last, the nonce.
func checkClaims(c *claims, want Check) (*Proof, error) {
	switch {
	case c.JTI == "":
		return nil, invalid(ErrMissingJTI, "")
	case len(c.JTI) > MaxJTIBytes:
		return nil, invalid(ErrMalformed, "oversized jti")
	case c.HTM != want.Method:
		return nil, invalid(ErrMethod, fmt.Sprintf("htm %.16q, request %.16q", c.HTM, want.Method))
	case !sameURL(c.HTU, want.URL):
		return nil, invalid(ErrURL, fmt.Sprintf("htu %.200q", c.HTU))
	case c.IAT == nil:
		return nil, invalid(ErrMalformed, "no iat")
	}
	now := want.Now
	if now.IsZero() {
		now = time.Now()
	}
	window := orDefault(want.Window, DefaultWindow)
	leeway := orDefault(want.Leeway, DefaultLeeway)
	iat := c.IAT.T
	expires := iat.Add(window + leeway)
	if !now.Before(expires) || now.Add(leeway).Before(iat) {
		return nil, invalid(ErrStale, fmt.Sprintf("iat %d, now %d", iat.Unix(), now.Unix()))
	}
	if want.AccessToken != "" {
		if c.ATH == nil || subtle.ConstantTimeCompare([]byte(*c.ATH), []byte(AccessTokenHash(want.AccessToken))) != 1 {
			return nil, invalid(ErrATH, "")
		}
	}
	p := &Proof{JTI: c.JTI, IssuedAt: iat, ExpiresAt: expires}
	if c.Nonce != nil {
		p.Nonce = *c.Nonce
	}
	if want.Nonce != nil {
		switch {
		case c.Nonce == nil:
			return nil, invalid(ErrUseNonce, "no nonce")
		case !want.Nonce(*c.Nonce):
			return nil, invalid(ErrUseNonce, "nonce not accepted")
		}
	}
	return p, nil
}

// orDefault maps zero to def and negative values to zero.
func orDefault(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// AccessTokenHash is a proof's ath for accessToken: the base64url SHA-256
// of its ASCII form (RFC 9449 §4.2).
func AccessTokenHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
