package token

import (
	"context"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/federation"
	"github.com/gatehouse/gatehouse/internal/jwks"
	"github.com/gatehouse/gatehouse/internal/keys"
	"github.com/gatehouse/gatehouse/internal/limits"
	"github.com/gatehouse/gatehouse/internal/mtls"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/replay"
	"github.com/gatehouse/gatehouse/internal/secret"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/tracing"
	"github.com/gatehouse/gatehouse/verify"
)

// Config is the token endpoint's own configuration.
type Config struct {
	// IssuerURL goes verbatim into iss. Required.
	IssuerURL string
	// DefaultAudience is used when a request names none; "" makes
	// audience required.
	DefaultAudience string
	// ClientCA checks the certificates of tls_client_auth clients (nil:
	// no CA configured, and such clients are refused).
	ClientCA *mtls.Authority
	// MaxAssertionLifetime bounds exp - iat of a client assertion; zero
	// means MaxAssertionLifetime.
	MaxAssertionLifetime time.Duration
	// JWKS tunes how clients' jwks_uri documents are fetched (HTTPS only
	// unless a test says otherwise).
	JWKS jwks.RemoteOptions
	// DPoP tunes DPoP proofs at the token endpoint.
	DPoP DPoPConfig
	// FederationKeyWait bounds how long a federated request waits for a
	// trust's keys that are not cached yet; zero means
	// federation.DefaultKeyWait. Trusts' keys are fetched like clients'
	// jwks_uri documents (JWKS).
	FederationKeyWait time.Duration
}

// Issuer mints access tokens for authenticated clients. It reads clients
// and APIs from the catalog only, never the store, on the hot path.
type Issuer struct {
	cfg      Config
	keys     *keys.Set
	catalog  *catalog.Catalog
	tokens   store.TokenStore
	secrets  *secret.Checker
	revoked  *Revocations
	throttle *limits.AuthThrottle
	limits   *limits.Limiter
	own      *verify.Verifier // gatehouse's own JWTs, any audience
	used     *replay.Cache    // jtis of client assertions and DPoP proofs
	now      func() time.Time

	clientKeys *keyCache
	federation *federation.Engine
	base       string // IssuerURL without a trailing slash, for endpoint URLs

	grants  map[string]grantType
	methods []authMethod
	reuse   reuseCache
}

// NewIssuer returns the token endpoint's rules over its dependencies:
// the node's signing keys and catalog, the store of opaque tokens and
// revocations, the failed-authentication throttle, the rate limiter, the
// single-use cache of assertion and proof ids, and the clock (nil:
// time.Now).
func NewIssuer(cfg Config, ks *keys.Set, cat *catalog.Catalog, tokens store.TokenStore,
	throttle *limits.AuthThrottle, limiter *limits.Limiter, used *replay.Cache, now func() time.Time) (*Issuer, error) {
	if now == nil {
		now = time.Now
	}
	if cfg.MaxAssertionLifetime <= 0 {
		cfg.MaxAssertionLifetime = MaxAssertionLifetime
	}
	if cfg.JWKS.Now == nil {
		cfg.JWKS.Now = now
	}
	cfg.DPoP = cfg.DPoP.withDefaults()
	fed, err := federation.NewEngine(cat, federation.Options{
		Audience: cfg.IssuerURL, Keys: cfg.JWKS, KeyWait: cfg.FederationKeyWait, Used: used, Now: now,
	})
	if err != nil {
		return nil, err
	}
	own, err := verify.New(context.Background(), verify.Config{Issuer: cfg.IssuerURL, SkipAudienceCheck: true, Keys: ks, Now: now})
	if err != nil {
		return nil, err
	}
	return &Issuer{
		cfg: cfg, keys: ks, catalog: cat, tokens: tokens, secrets: secret.NewChecker(),
		revoked: NewRevocations(tokens), throttle: throttle, limits: limiter, own: own, used: used, now: now,
		grants: grantTypes, methods: authMethods, clientKeys: newKeyCache(cfg.JWKS), federation: fed,
		base: strings.TrimSuffix(cfg.IssuerURL, "/"),
	}, nil
}

// Federation is the engine that accepts outside tokens (for `trust test`).
func (i *Issuer) Federation() *federation.Engine { return i.federation }

// Revocations is the node's copy of revoked JWT ids.
func (i *Issuer) Revocations() *Revocations { return i.revoked }

// Outcome is what a successful token request produced.
type Outcome struct {
	Response Response
	Grant    *Grant
	// Budget, when Limited, becomes the RateLimit-* headers.
	Budget  limits.Budget
	Limited bool
}

// Response is the documents' four-field token answer.
type Response struct {
	AccessToken string `json:"access_token"`
	Scope       string `json:"scope"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
	// IssuedTokenType answers a token exchange (RFC 8693 §2.2.1) only.
	IssuedTokenType string `json:"issued_token_type,omitempty"`
}

// Grant is what a token request was found to be entitled to, and after
// Mint, what was issued.
type Grant struct {
	Client   *store.Client
	API      *store.API
	Audience string // the resolved audience (a template filled with the tenant)
	Scopes   []string
	TTL      time.Duration
	// Type is the grant's gty claim, e.g. "client-credentials".
	Type string
	// Confirmation binds the token to its holder (cnf): a DPoP key or the
	// client's certificate.
	Confirmation store.Confirmation
	// External names the outside token a federated grant was for; Act is
	// the RFC 8693 act chain of a delegated one, whose Subject is the
	// subject token's sub (empty: the client's own). IssuedTokenType is
	// the token exchange answer's issued_token_type.
	External        *External
	Act             map[string]any
	Subject         string
	IssuedTokenType string
	// Service and APIKey bind a per-service token to one service and one
	// environment (the environment's public api_key).
	Service string
	APIKey  string

	// Set by Mint. Scope is Scopes as the token and the answer carry
	// them, space-separated.
	Scope     string
	JTI       string
	IssuedAt  time.Time
	ExpiresAt time.Time
	Reused    bool
}

// Token runs a parsed request through the steps every grant shares: find
// the grant type, verify a DPoP proof, authenticate the caller where the
// grant needs one (throttled), let the grant name the client the token is
// for, apply the audience and scope policy, bind the token to the proof's
// key, count it against limits, mint. service is ""
// at /oauth/token, or the path name of the per-service endpoint the
// request came to; addr is the caller's address.
func (i *Issuer) Token(ctx context.Context, req oauth.TokenRequest, service, addr string) (Outcome, error) {
	if req.GrantType == "" {
		return Outcome{}, oauth.ErrInvalidRequest("grant_type is required.")
	}
	gt, ok := i.grants[req.GrantType]
	if !ok {
		return Outcome{}, oauth.ErrUnsupportedGrantType(req.GrantType)
	}
	gt = i.route(gt, &req)
	var api *store.API
	if service != "" {
		if api, ok = i.catalog.Service(service); !ok {
			return Outcome{}, oauth.ErrNotFound("No service named %q.", truncate(service))
		}
	}
	proof, err := i.checkDPoP(req)
	if err != nil {
		return Outcome{}, err
	}
	var caller *store.Client
	var cnf store.Confirmation
	if gt.authenticate(&req) {
		actx, step := tracing.Step(ctx, "authenticate client")
		// req is already on the heap (the grant's checks take its
		// address); authentication shares it rather than copying it
		// there again. Only a ClientID the credential named is filled in.
		caller, cnf, err = i.authenticateThrottled(actx, &req, addr)
		step.End()
		if err != nil {
			return Outcome{}, err
		}
	}
	res := resolution{client: caller}
	if gt.resolve != nil {
		r, err := gt.resolve(ctx, i, req, caller)
		if err != nil {
			return Outcome{}, err
		}
		res = *r
	}
	client := res.client
	var g *Grant
	if api != nil {
		g, err = i.authorizeService(client, api, req)
	} else {
		g, err = i.Authorize(client, req)
	}
	if err != nil {
		return Outcome{}, err
	}
	if err := res.apply(g, req, i.now()); err != nil {
		return Outcome{}, err
	}
	g.Type = gt.claim
	g.Confirmation = cnf
	if err := i.bindDPoP(ctx, proof, client, g); err != nil {
		return Outcome{}, err
	}
	out := Outcome{Grant: g}
	var admitted bool
	out.Budget, out.Limited, admitted = i.limits.Admit(client, i.catalog.TenantLimits(client.Tenant))
	if !admitted {
		e := oauth.ErrTooManyRequests(out.Budget.Describe(), out.Budget.Reset)
		e.Header = out.Budget.Headers()
		e.Cause = limits.ExceededError{Limit: out.Budget.Exceeded}
		return out, e
	}
	mctx, step := tracing.Step(ctx, "mint")
	out.Response, err = i.Mint(mctx, g)
	step.End()
	return out, err
}

func truncate(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}
