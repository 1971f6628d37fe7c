package client

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// An Option changes how tokens are requested: with a private key instead
// of a secret, bound to a DPoP key.
type Option func(*options)

type options struct {
	key      *PrivateKey
	audience string
	dpop     *DPoP
}

// WithPrivateKey authenticates token requests with a new client assertion
// signed by key for each request (private_key_jwt, RFC 7523 §2.2), whose
// aud is the Config's TokenURL unless WithAssertionAudience says
// otherwise. The Config's ClientSecret and AuthStyle are then not used;
// its ClientID is the assertion's iss and sub.
func WithPrivateKey(key *PrivateKey) Option {
	return func(o *options) { o.key = key }
}

// WithAssertionAudience sets the aud of the client assertions made by
// WithPrivateKey, for a server that wants its issuer identifier there
// rather than its token endpoint URL (gatehouse takes either).
func WithAssertionAudience(audience string) Option {
	return func(o *options) { o.audience = audience }
}

// WithDPoP sends a DPoP proof of d's key with every token request, so that
// the tokens are bound to it (RFC 9449), and makes a Transport send them
// with proofs. When the token endpoint answers use_dpop_nonce, the request
// is made once more with the nonce it gave.
func WithDPoP(d *DPoP) Option {
	return func(o *options) { o.dpop = d }
}

// NewTokenSource returns a TokenSource that requests a new token from
// cfg.TokenURL with the client credentials grant (RFC 6749 §4.4) at every
// call: with cfg's secret, or with a client assertion under
// WithPrivateKey; with a DPoP proof under WithDPoP. It does not reuse
// tokens: use it as a Transport's Source (Transport caches the token), or
// wrap it in oauth2.ReuseTokenSource. A DPoP-bound token can only be sent
// by a Transport whose DPoP is set.
//
// ctx may carry the *http.Client for token requests under
// oauth2.HTTPClient; when it carries none, token requests use a client
// with a 30 second timeout. ctx is kept for the TokenSource's life.
func NewTokenSource(ctx context.Context, cfg *clientcredentials.Config, opts ...Option) oauth2.TokenSource {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	hc, ok := ctx.Value(oauth2.HTTPClient).(*http.Client)
	if !ok || hc == nil {
		hc = &http.Client{Timeout: tokenTimeout}
	}
	if o.dpop != nil {
		withProofs := *hc
		withProofs.Transport = &proofTransport{dpop: o.dpop, base: hc.Transport}
		hc = &withProofs
	}
	return &tokenSource{ctx: context.WithValue(ctx, oauth2.HTTPClient, hc), cfg: cfg, opts: o}
}

// tokenSource requests a new token at every call.
type tokenSource struct {
	ctx  context.Context
	cfg  *clientcredentials.Config
	opts options
}

// Token requests a token, and once more when the token endpoint asks for
// a DPoP nonce: the proof transport has then remembered the nonce, and
// the second request carries it, with a new assertion (gatehouse accepts
// each jti once, and took the first one's before it looked at the proof).
func (s *tokenSource) Token() (*oauth2.Token, error) {
	tok, err := s.request()
	var re *oauth2.RetrieveError
	if s.opts.dpop != nil && errors.As(err, &re) && re.ErrorCode == "use_dpop_nonce" &&
		re.Response != nil && re.Response.Header.Get(DPoPNonceHeader) != "" {
		tok, err = s.request()
	}
	return tok, err
}

func (s *tokenSource) request() (*oauth2.Token, error) {
	if s.opts.key == nil {
		return s.cfg.Token(s.ctx)
	}
	aud := s.opts.audience
	if aud == "" {
		aud = s.cfg.TokenURL
	}
	assertion, err := s.opts.key.Assertion(s.cfg.ClientID, aud, time.Now())
	if err != nil {
		return nil, err
	}
	params := url.Values{}
	for k, v := range s.cfg.EndpointParams {
		params[k] = append([]string(nil), v...)
	}
	params.Set("client_assertion_type", ClientAssertionType)
	params.Set("client_assertion", assertion)
	// A Config of its own per request: the assertion changes every time,
	// and the caller's Config may be shared.
	cfg := &clientcredentials.Config{
		ClientID: s.cfg.ClientID, TokenURL: s.cfg.TokenURL, Scopes: s.cfg.Scopes,
		EndpointParams: params, AuthStyle: oauth2.AuthStyleInParams,
	}
	return cfg.Token(s.ctx)
}
