package verify

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/jwks"
)

// Defaults for the zero values of Config.
const (
	DefaultLeeway             = 30 * time.Second
	DefaultMinRefreshInterval = 10 * time.Second
)

// maxTokenBytes bounds the token accepted; gatehouse's are far smaller.
const maxTokenBytes = 16 << 10

// signatureAlgorithms are the algorithms a token may name: those a
// published key may verify, never "none" or HMAC.
var signatureAlgorithms = jwks.SignatureAlgorithms()

// Config says which tokens a Verifier accepts and where it finds the keys.
type Config struct {
	// Issuer is gatehouse's issuer URL, exactly as in the tokens' "iss"
	// claim. Required.
	Issuer string
	// Audience is this API's audience URI. Required. A template such as
	// "https://delivery.example.io/{tenant}" accepts a token whose "aud" is
	// the template with {tenant} replaced by the token's "tenant" claim.
	Audience string
	// SkipAudienceCheck accepts a token whatever its "aud", and Audience
	// may then be empty. Only the issuer itself wants this (to introspect
	// tokens of every API); a resource server must leave it false.
	SkipAudienceCheck bool
	// Keys, when set, supplies the verification keys instead of the
	// issuer's published JWKS: nothing is fetched, and JWKSURL,
	// HTTPClient and MinRefreshInterval are unused. gatehouse uses it to
	// check its own tokens against the keys it holds.
	Keys KeySource
	// JWKSURL skips metadata discovery when set.
	JWKSURL string
	// HTTPClient fetches the metadata and the JWKS; nil means a client with
	// a 10 second timeout.
	HTTPClient *http.Client
	// Leeway is the clock skew allowed on exp, nbf and iat. Zero means
	// DefaultLeeway; a negative value means none.
	Leeway time.Duration
	// MinRefreshInterval is the least time between two JWKS fetches, which
	// bounds the fetches that tokens with unknown key ids can cause. Zero
	// means DefaultMinRefreshInterval; a negative value means no limit.
	MinRefreshInterval time.Duration
	// Realm is the realm of the WWW-Authenticate challenges; empty means
	// the Audience.
	Realm string
	// Now returns the current time, for tests; nil means time.Now. It is
	// used for the claim checks and for the key cache.
	Now func() time.Time
	// CacheSize is how many verified tokens are remembered, so that a
	// token seen again is answered without a signature check (until its
	// exp, and while its key is published). Zero means DefaultCacheSize;
	// a negative value turns the cache off.
	CacheSize int

	// The fields below concern tokens bound to their holder (RFC 9449
	// DPoP, RFC 8705 certificates), which the middleware enforces; see
	// resource.go.

	// PublicURL is this API's external base URL as clients address it,
	// such as "https://api.example.io", or "https://example.io/api" behind
	// a proxy that strips /api. A DPoP proof's htu must be PublicURL
	// followed by the request's path. Empty means the URL the request
	// arrived at: https when it came over TLS, and its Host header. Set it
	// whenever a proxy in front changes the scheme, host or path.
	PublicURL string
	// RequestURL, when set, returns the URL (without query) a client
	// addressed for r, in place of PublicURL's rule: for an API served
	// under several names.
	RequestURL func(r *http.Request) string
	// ClientCertificate returns the client certificate of the connection
	// r came over, or nil when there is none, for tokens bound to one
	// (cnf x5t#S256). Nil means the first peer certificate of r.TLS, which
	// needs a server that asks for client certificates (tls.Config
	// ClientAuth RequestClientCert or stronger). Behind a proxy that
	// terminates TLS, read the proxy's certificate header here, and only
	// from that proxy.
	ClientCertificate func(r *http.Request) (*x509.Certificate, error)
	// RequireDPoP refuses every token that is not DPoP-bound
	// (dpop_bound_access_tokens_required). By default unbound tokens pass
	// as Bearer tokens; bound ones are always held to their binding.
	RequireDPoP bool
	// ResourceMetadataURL is where this API serves its RFC 9728 metadata
	// (see Verifier.ResourceMetadata); when set, every WWW-Authenticate
	// challenge names it.
	ResourceMetadataURL string
}

// A KeySource finds a verification key by its key id. Lookups must be
// cheap: Verify calls it once per token.
type KeySource interface {
	// VerificationKey returns the public key with this kid and the one
	// algorithm it signs with, or ok false when there is none.
	VerificationKey(kid string) (key crypto.PublicKey, alg string, ok bool)
}

// A Verifier checks access tokens offline against the issuer's published
// keys. It is safe for concurrent use.
type Verifier struct {
	issuer   string
	audience string
	anyAud   bool
	source   KeySource    // Config.Keys; nil when the keys are fetched
	remote   *jwks.Remote // the issuer's JWKS, when source is nil
	leeway   time.Duration
	realm    string
	now      func() time.Time
	resource *resource // the binding rules and metadata
	cache    *tokenCache
}

// New returns a Verifier for cfg. Unless cfg.JWKSURL is set it reads the
// issuer's metadata to find the JWKS; it then fetches the JWKS, so that a
// wrong configuration or an unreachable issuer shows at start-up.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("verify: Config.Issuer is required")
	}
	if cfg.Audience == "" && !cfg.SkipAudienceCheck {
		return nil, errors.New("verify: Config.Audience is required")
	}
	v := &Verifier{
		issuer:   cfg.Issuer,
		audience: cfg.Audience,
		anyAud:   cfg.SkipAudienceCheck,
		source:   cfg.Keys,
		leeway:   orDefault(cfg.Leeway, DefaultLeeway),
		realm:    cfg.Realm,
		now:      cfg.Now,
		cache:    newTokenCache(cacheSize(cfg.CacheSize)),
	}
	if v.realm == "" {
		v.realm = cfg.Audience
	}
	if v.now == nil {
		v.now = time.Now
	}
	if err := v.initResource(cfg); err != nil {
		return nil, err
	}
	if v.source != nil {
		return v, nil
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: jwks.DefaultTimeout}
	}
	jwksURL := cfg.JWKSURL
	if jwksURL == "" {
		u, err := jwks.Discover(ctx, client, v.issuer)
		if err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
		jwksURL = u
	}
	minRefresh := orDefault(cfg.MinRefreshInterval, DefaultMinRefreshInterval)
	if minRefresh == 0 {
		minRefresh = -1 // jwks: negative means no limit
	}
	remote, err := jwks.NewRemote(jwksURL, jwks.RemoteOptions{HTTPClient: client, MinRefresh: minRefresh, Now: v.now})
	if err != nil {
		return nil, fmt.Errorf("verify: Config.JWKSURL: %w", err)
	}
	if _, err := remote.Load(ctx); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	v.remote = remote
	return v, nil
}

func cacheSize(n int) int {
	if n == 0 {
		return DefaultCacheSize
	}
	return n
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

// Verify checks rawToken and returns its claims. Every error for a token
// that must be refused matches ErrInvalidToken, and one of the specific
// errors (ErrExpired, ErrAudience, ...).
func (v *Verifier) Verify(ctx context.Context, rawToken string) (*Claims, error) {
	if rawToken == "" || len(rawToken) > maxTokenBytes {
		return nil, invalid(ErrMalformed, "empty or oversized token")
	}
	if c, ok := v.cache.get(v, ctx, rawToken, v.now()); ok {
		return c, nil
	}
	jws, err := jose.ParseSignedCompact(rawToken, signatureAlgorithms)
	if err != nil {
		if _, ok := errors.AsType[*jose.ErrUnexpectedSignatureAlgorithm](err); ok {
			return nil, invalid(ErrAlgorithm, err.Error())
		}
		return nil, invalid(ErrMalformed, err.Error())
	}
	if len(jws.Signatures) != 1 {
		return nil, invalid(ErrMalformed, "want exactly one signature")
	}
	// Header checks come before the key lookup, so that a token that would
	// fail anyway causes no JWKS refresh. The jku, x5u, jwk and x5c
	// headers are never read: keys come from the issuer's JWKS only.
	header := jws.Signatures[0].Protected
	if !isAccessTokenType(header.ExtraHeaders[jose.HeaderType]) {
		return nil, invalid(ErrTokenType, "")
	}
	if header.KeyID == "" {
		return nil, invalid(ErrUnknownKey, "no kid header")
	}
	key, err := v.key(ctx, header.KeyID)
	if err != nil {
		return nil, err
	}
	if key.Alg != header.Algorithm {
		return nil, invalid(ErrAlgorithm, fmt.Sprintf("header alg %q, key alg %q", header.Algorithm, key.Alg))
	}
	payload, err := jws.Verify(key.Public)
	if err != nil {
		return nil, invalid(ErrSignature, err.Error())
	}
	claims, err := decodeClaims(payload)
	if err != nil {
		return nil, err
	}
	if err := v.check(claims); err != nil {
		return nil, err
	}
	v.cache.put(rawToken, header.KeyID, claims)
	return claims, nil
}

// isAccessTokenType accepts "at+jwt" and its full media type, in any case
// (RFC 9068 §2.1, RFC 7515 §4.1.9).
func isAccessTokenType(typ any) bool {
	s, _ := typ.(string)
	return strings.EqualFold(s, "at+jwt") || strings.EqualFold(s, "application/at+jwt")
}

// check validates the claims against the configuration and the clock.
func (v *Verifier) check(c *Claims) error {
	if c.Issuer != v.issuer {
		return invalid(ErrIssuer, fmt.Sprintf("got %q", c.Issuer))
	}
	if err := v.checkAudience(c); err != nil {
		return err
	}
	now := v.now()
	if !now.Before(c.Expiry.Add(v.leeway)) {
		return invalid(ErrExpired, "exp "+c.Expiry.UTC().Format(time.RFC3339))
	}
	if now.Add(v.leeway).Before(c.NotBefore) {
		return invalid(ErrNotYetValid, "nbf "+c.NotBefore.UTC().Format(time.RFC3339))
	}
	if now.Add(v.leeway).Before(c.IssuedAt) {
		return invalid(ErrNotYetValid, "iat "+c.IssuedAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkAudience requires the configured audience (a template filled with
// the token's tenant) among the token's.
func (v *Verifier) checkAudience(c *Claims) error {
	if v.anyAud {
		return nil
	}
	want := v.audience
	if strings.Contains(want, "{tenant}") {
		if c.Tenant == "" {
			return invalid(ErrAudience, "audience template needs a tenant claim")
		}
		want = strings.ReplaceAll(want, "{tenant}", c.Tenant)
	}
	if !slices.Contains(c.Audience, want) {
		return invalid(ErrAudience, fmt.Sprintf("got %q", c.Audience))
	}
	return nil
}

// key returns the published key with this kid, and the one algorithm it
// verifies. The JWKS cache refreshes once on an unknown kid, rate-limited,
// and in the background when stale (see jwks.Remote). Where the JWKS holds
// several keys with one kid, the first is used.
func (v *Verifier) key(ctx context.Context, kid string) (jwks.Key, error) {
	if v.source != nil {
		return v.sourceKey(kid)
	}
	keys, err := v.remote.Lookup(ctx, kid, "")
	if err != nil {
		return jwks.Key{}, invalid(ErrUnknownKey, fmt.Sprintf("kid %q; refreshing the JWKS: %v", kid, err))
	}
	if len(keys) == 0 {
		return jwks.Key{}, invalid(ErrUnknownKey, fmt.Sprintf("kid %q", kid))
	}
	k := keys[0]
	if k.Alg == "" {
		// gatehouse publishes alg; a key without one signs the single
		// algorithm gatehouse would use with it.
		k.Alg = jwks.DefaultAlgorithm(k.Public)
	}
	return k, nil
}

// sourceKey looks kid up in Config.Keys, holding its keys to the same
// rules as a fetched JWKS (usable algorithm for the key's type).
func (v *Verifier) sourceKey(kid string) (jwks.Key, error) {
	key, alg, ok := v.source.VerificationKey(kid)
	if !ok {
		return jwks.Key{}, invalid(ErrUnknownKey, fmt.Sprintf("kid %q", kid))
	}
	if !jwks.Fits(alg, key) {
		return jwks.Key{}, invalid(ErrAlgorithm, fmt.Sprintf("key %q cannot sign %s", kid, alg))
	}
	return jwks.Key{KID: kid, Alg: alg, Public: key}, nil
}
