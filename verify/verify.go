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
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/sync/singleflight"
)

// Defaults for the zero values of Config.
const (
	DefaultLeeway             = 30 * time.Second
	DefaultMinRefreshInterval = 10 * time.Second
)

// maxTokenBytes bounds the token accepted; gatehouse's are far smaller.
const maxTokenBytes = 16 << 10

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
	issuer     string
	audience   string
	anyAud     bool
	source     KeySource
	jwksURL    string
	client     *http.Client
	leeway     time.Duration
	minRefresh time.Duration
	realm      string
	now        func() time.Time
	resource   *resource // the binding rules and metadata

	group singleflight.Group

	mu        sync.RWMutex
	keys      map[string]publicKey
	expires   time.Time // when the cached JWKS goes stale
	lastFetch time.Time // when the JWKS was last fetched or tried
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
		issuer:     cfg.Issuer,
		audience:   cfg.Audience,
		anyAud:     cfg.SkipAudienceCheck,
		source:     cfg.Keys,
		jwksURL:    cfg.JWKSURL,
		client:     cfg.HTTPClient,
		leeway:     orDefault(cfg.Leeway, DefaultLeeway),
		minRefresh: orDefault(cfg.MinRefreshInterval, DefaultMinRefreshInterval),
		realm:      cfg.Realm,
		now:        cfg.Now,
	}
	if v.client == nil {
		v.client = &http.Client{Timeout: fetchTimeout}
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
	if v.jwksURL == "" {
		u, err := discover(ctx, v.client, v.issuer)
		if err != nil {
			return nil, err
		}
		v.jwksURL = u
	} else if err := checkURL(v.jwksURL); err != nil {
		return nil, fmt.Errorf("verify: Config.JWKSURL: %w", err)
	}
	keys, ttl, err := fetchKeys(ctx, v.client, v.jwksURL)
	if err != nil {
		return nil, err
	}
	v.store(keys, ttl, v.now())
	return v, nil
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
	if string(key.alg) != header.Algorithm {
		return nil, invalid(ErrAlgorithm, fmt.Sprintf("header alg %q, key alg %q", header.Algorithm, key.alg))
	}
	payload, err := jws.Verify(key.key)
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

// key returns the published key with this kid. An unknown kid refreshes
// the JWKS once (see refresh); a stale JWKS is refreshed in the background
// while the cached keys go on serving.
func (v *Verifier) key(ctx context.Context, kid string) (publicKey, error) {
	if v.source != nil {
		return v.sourceKey(kid)
	}
	v.mu.RLock()
	k, ok := v.keys[kid]
	stale := !v.now().Before(v.expires)
	v.mu.RUnlock()
	if ok {
		if stale {
			// The cached keys serve meanwhile; a failed refresh keeps them.
			go v.refresh(context.WithoutCancel(ctx))
		}
		return k, nil
	}
	if err := v.refresh(ctx); err != nil {
		return publicKey{}, invalid(ErrUnknownKey, fmt.Sprintf("kid %q; refreshing the JWKS: %v", kid, err))
	}
	v.mu.RLock()
	k, ok = v.keys[kid]
	v.mu.RUnlock()
	if !ok {
		return publicKey{}, invalid(ErrUnknownKey, fmt.Sprintf("kid %q", kid))
	}
	return k, nil
}

// sourceKey looks kid up in Config.Keys, holding its keys to the same
// rules as a fetched JWKS (usable algorithm for the key's type).
func (v *Verifier) sourceKey(kid string) (publicKey, error) {
	key, alg, ok := v.source.VerificationKey(kid)
	if !ok {
		return publicKey{}, invalid(ErrUnknownKey, fmt.Sprintf("kid %q", kid))
	}
	if !fits(jose.SignatureAlgorithm(alg), key) {
		return publicKey{}, invalid(ErrAlgorithm, fmt.Sprintf("key %q cannot sign %s", kid, alg))
	}
	return publicKey{alg: jose.SignatureAlgorithm(alg), key: key}, nil
}

// refresh fetches the JWKS, unless a fetch was made or tried less than
// MinRefreshInterval ago. Concurrent callers share one fetch; the check
// runs inside the shared call, so a burst of unknown kids costs at most one
// request per interval. A failed fetch keeps the cached keys.
func (v *Verifier) refresh(ctx context.Context) error {
	ch := v.group.DoChan("jwks", func() (any, error) {
		v.mu.Lock()
		recent := v.now().Sub(v.lastFetch) < v.minRefresh
		if !recent {
			v.lastFetch = v.now()
		}
		v.mu.Unlock()
		if recent {
			return nil, nil
		}
		// The fetch outlives a caller that gives up: others may be waiting.
		keys, ttl, err := fetchKeys(context.WithoutCancel(ctx), v.client, v.jwksURL)
		if err != nil {
			return nil, err
		}
		v.store(keys, ttl, v.now())
		return nil, nil
	})
	select {
	case r := <-ch:
		return r.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// store replaces the cached keys. The cache lives at least
// MinRefreshInterval, however short the max-age.
func (v *Verifier) store(keys map[string]publicKey, ttl time.Duration, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.keys = keys
	v.expires = now.Add(max(ttl, v.minRefresh))
	v.lastFetch = now
}
