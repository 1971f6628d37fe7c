package client

import (
	"crypto"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/dpop"
)

// DPoPNonceHeader is the response header that carries a server's DPoP
// nonce (RFC 9449 §8).
const DPoPNonceHeader = "DPoP-Nonce"

// maxNonceOrigins bounds the nonces a DPoP remembers; past it, it starts
// over.
const maxNonceOrigins = 64

// DPoP makes tokens sender-constrained (RFC 9449): with it, every token
// request carries a proof of its key, gatehouse binds the token to that
// key (token_type "DPoP"), and Transport sends the token as
// "Authorization: DPoP <token>" with a new proof for every API request, so
// that a stolen token is useless without the key.
//
// A DPoP also remembers the last nonce each server (scheme and host) gave
// in a DPoP-Nonce header, and puts it into the next proof for that server.
// Make one with NewDPoP and share it between WithDPoP and Transport.DPoP.
// It is safe for concurrent use.
type DPoP struct {
	key crypto.Signer
	alg string
	jkt string

	mu     sync.Mutex
	nonces map[string]string // origin -> last nonce
}

// NewDPoP returns a DPoP that proves possession of key: an EC P-256, RSA
// (2048 bits or more) or Ed25519 crypto.Signer. alg is ES256, RS256, PS256
// or EdDSA; empty picks ES256, RS256 or EdDSA by the key's type. The key
// need not be registered anywhere: a program may make a new one at start.
func NewDPoP(key crypto.Signer, alg string) (*DPoP, error) {
	alg, err := keyAlg(key, alg)
	if err != nil {
		return nil, err
	}
	jkt, err := dpop.Thumbprint(key.Public())
	if err != nil {
		return nil, err
	}
	return &DPoP{key: key, alg: alg, jkt: jkt, nonces: map[string]string{}}, nil
}

// Alg is the JWS algorithm of the proofs.
func (d *DPoP) Alg() string { return d.alg }

// Thumbprint is the RFC 7638 SHA-256 thumbprint of the key, base64url: the
// cnf.jkt of the tokens bound to it.
func (d *DPoP) Thumbprint() string { return d.jkt }

// proof makes a proof for one request to rawURL, with the nonce the
// server last gave; accessToken is empty for token requests.
func (d *DPoP) proof(method, rawURL, accessToken string) (string, error) {
	return dpop.NewProof(d.key, d.alg, method, rawURL, accessToken, d.nonce(rawURL), time.Now())
}

func (d *DPoP) nonce(rawURL string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.nonces[origin(rawURL)]
}

// observe remembers the nonce of a response from rawURL, if it has one,
// and reports whether it had one.
func (d *DPoP) observe(rawURL string, resp *http.Response) bool {
	n := resp.Header.Get(DPoPNonceHeader)
	if n == "" {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.nonces) >= maxNonceOrigins {
		d.nonces = map[string]string{}
	}
	d.nonces[origin(rawURL)] = n
	return true
}

// origin is the scheme and host of rawURL, in lower case: nonces are per
// server.
func origin(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// isDPoP reports whether tok is DPoP-bound (RFC 9449 §5: token_type
// "DPoP", compared without case).
func isDPoP(tok *oauth2.Token) bool { return strings.EqualFold(tok.TokenType, "DPoP") }

// askedForNonce reports whether a resource server's 401 asks for a DPoP
// proof with a new nonce (RFC 9449 §9) and gave one.
func askedForNonce(resp *http.Response) bool {
	if resp.Header.Get(DPoPNonceHeader) == "" {
		return false
	}
	for _, v := range resp.Header.Values("WWW-Authenticate") {
		if strings.Contains(v, "use_dpop_nonce") {
			return true
		}
	}
	return false
}

// proofTransport adds a DPoP proof to every request it sends (the token
// requests), and remembers the nonces of the answers.
type proofTransport struct {
	dpop *DPoP
	base http.RoundTripper
}

func (p *proofTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	u := req.URL.String()
	proof, err := p.dpop.proof(req.Method, u, "")
	if err != nil {
		closeBody(req)
		return nil, err
	}
	out := req.Clone(req.Context())
	out.Header.Set(dpop.Header, proof)
	base := p.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(out)
	if err == nil {
		p.dpop.observe(u, resp)
	}
	return resp, err
}
