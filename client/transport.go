package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/sync/singleflight"
)

// ExpiryDelta is how long before its expiry a token is replaced, so that
// it does not expire on its way to the API.
const ExpiryDelta = 10 * time.Second

// tokenTimeout bounds a token request when the context given to
// NewTransport carries no HTTP client of its own.
const tokenTimeout = 30 * time.Second

// maxDrainBytes is how much of a 401 answer's body is read before it is
// closed, so that its connection can be reused for the retry.
const maxDrainBytes = 4 << 10

// Transport is an http.RoundTripper that sends each request with an
// access token from Source, and heals stale tokens: when the API answers
// 401, it fetches a new token once and sends the request once more. A
// token revoked at gatehouse, or signed with a key the API no longer
// trusts, so costs one extra round trip instead of failing until it
// expires.
//
// A bearer token goes in "Authorization: Bearer" (RFC 6750 §2.1). A
// DPoP-bound token (token_type "DPoP", from a Source made with WithDPoP)
// goes in "Authorization: DPoP" with a new proof of DPoP's key for each
// request, naming its method and URL and the token's hash (RFC 9449 §7);
// when the API answers 401 use_dpop_nonce with a DPoP-Nonce, the request
// is sent once more with a proof carrying that nonce.
//
// The request is retried only when its body can be sent again: no body,
// http.NoBody, or a GetBody function (http.NewRequest sets one for
// bytes.Buffer, bytes.Reader and strings.Reader bodies). A second 401 is
// returned to the caller, as is the first one when no new token can be
// had.
//
// Transport keeps the current token and shares it between goroutines;
// concurrent requests that meet the same stale token cause one token
// request. It is safe for concurrent use. Its zero value is not usable:
// set Source, or use NewTransport.
type Transport struct {
	// Source returns a new token from the token endpoint on every call.
	// It must not cache (an oauth2.ReuseTokenSource would hand the stale
	// token back); Transport caches the token itself.
	Source oauth2.TokenSource
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// DPoP makes the proofs that DPoP-bound tokens are sent with. It must
	// be the one the Source's token requests used (WithDPoP): the tokens
	// are bound to its key. Nil refuses DPoP-bound tokens.
	DPoP *DPoP

	group singleflight.Group
	mu    sync.Mutex
	token *oauth2.Token
}

// NewTransport returns a Transport that gets its tokens from cfg with the
// client credentials grant (RFC 6749 §4.4), as NewTokenSource does with
// opts, and sends requests with base (nil means http.DefaultTransport).
// With WithDPoP, the Transport sends the tokens with proofs of that key.
//
// As with golang.org/x/oauth2, ctx may carry the *http.Client for token
// requests under oauth2.HTTPClient; when it carries none, token requests
// use a client with a 30 second timeout. ctx is kept for the Transport's
// life: do not pass a request's context.
func NewTransport(ctx context.Context, cfg *clientcredentials.Config, base http.RoundTripper, opts ...Option) *Transport {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return &Transport{Source: NewTokenSource(ctx, cfg, opts...), Base: base, DPoP: o.dpop}
}

// NewClient returns an *http.Client whose Transport is
// NewTransport(ctx, cfg, nil, opts...).
func NewClient(ctx context.Context, cfg *clientcredentials.Config, opts ...Option) *http.Client {
	return &http.Client{Transport: NewTransport(ctx, cfg, nil, opts...)}
}

// RoundTrip sends req with the current token, and again, when the body
// can be replayed and the API answers 401: once with a proof carrying the
// nonce a resource server asked for, and once with a new token. The two
// retries may come in either order, as the API finds the faults.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.current(req.Context())
	if err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := t.send(req, tok, req.Body)
	nonceSent, renewed := false, false
	for err == nil && resp.StatusCode == http.StatusUnauthorized && replayable(req) {
		switch {
		case isDPoP(tok) && !nonceSent && askedForNonce(resp):
			nonceSent = true // send has remembered the nonce; the next proof carries it
		case !renewed:
			renewed = true
			fresh, rerr := t.renew(req.Context(), tok)
			if rerr != nil {
				return resp, nil // the API's 401 says more than the token endpoint's failure
			}
			tok = fresh
		default:
			return resp, nil
		}
		resp, err = t.resend(req, resp, tok)
	}
	return resp, err
}

// resend sends req again with tok, after closing the answer it replaces.
// If the body cannot be had again, that answer is returned.
func (t *Transport) resend(req *http.Request, last *http.Response, tok *oauth2.Token) (*http.Response, error) {
	body := req.Body
	if req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
		var err error
		if body, err = req.GetBody(); err != nil {
			return last, nil
		}
	}
	_, _ = io.CopyN(io.Discard, last.Body, maxDrainBytes)
	last.Body.Close()
	return t.send(req, tok, body)
}

// send sends a copy of req with tok and body (RoundTrippers must not
// change the caller's request): as a bearer token, or as a DPoP-bound one
// with a proof for this request, remembering the answer's nonce.
func (t *Transport) send(req *http.Request, tok *oauth2.Token, body io.ReadCloser) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.Body = body
	if !isDPoP(tok) {
		out.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		return t.base().RoundTrip(out)
	}
	if t.DPoP == nil {
		closeBody(out)
		return nil, errors.New("client: the token is DPoP-bound, and Transport.DPoP is nil")
	}
	u := req.URL.String()
	proof, err := t.DPoP.proof(req.Method, u, tok.AccessToken)
	if err != nil {
		closeBody(out)
		return nil, err
	}
	out.Header.Set("Authorization", "DPoP "+tok.AccessToken)
	out.Header.Set("DPoP", proof)
	resp, err := t.base().RoundTrip(out)
	if err == nil {
		t.DPoP.observe(u, resp)
	}
	return resp, err
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// replayable reports whether req's body can be sent a second time.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// current returns the cached token, or a new one when there is none or it
// is about to expire.
func (t *Transport) current(ctx context.Context) (*oauth2.Token, error) {
	t.mu.Lock()
	tok := t.token
	t.mu.Unlock()
	if usable(tok) {
		return tok, nil
	}
	return t.renew(ctx, tok)
}

// renew replaces stale with a new token. Callers that hold the same stale
// token share one token request; one that arrives after the replacement
// gets the replacement.
func (t *Transport) renew(ctx context.Context, stale *oauth2.Token) (*oauth2.Token, error) {
	if t.Source == nil {
		return nil, errors.New("client: Transport.Source is nil")
	}
	ch := t.group.DoChan("token", func() (any, error) {
		t.mu.Lock()
		cur := t.token
		t.mu.Unlock()
		if cur != stale && usable(cur) {
			return cur, nil
		}
		tok, err := t.Source.Token()
		if err != nil {
			return nil, err
		}
		if tok == nil || tok.AccessToken == "" {
			return nil, errors.New("client: the token source returned no access token")
		}
		t.mu.Lock()
		t.token = tok
		t.mu.Unlock()
		return tok, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*oauth2.Token), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// usable reports whether tok can be sent: present and not within
// ExpiryDelta of its expiry (a zero Expiry never expires).
func usable(tok *oauth2.Token) bool {
	if tok == nil || tok.AccessToken == "" {
		return false
	}
	return tok.Expiry.IsZero() || time.Now().Add(ExpiryDelta).Before(tok.Expiry)
}
