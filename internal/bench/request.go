package bench

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// AuthMethod is how the load generator presents the client's credentials.
type AuthMethod string

const (
	// AuthPost sends client_id and client_secret in the form body
	// (client_secret_post), the default.
	AuthPost AuthMethod = "post"
	// AuthBasic sends them in an HTTP Basic header (client_secret_basic),
	// form-encoded first as RFC 6749 §2.3.1 requires.
	AuthBasic AuthMethod = "basic"
	// AuthJSON sends every parameter, credentials included, as an
	// application/json body, as some of the documents' clients do.
	AuthJSON AuthMethod = "json"
	// AuthPrivateKeyJWT sends a client assertion signed with
	// TokenOptions.Key instead of a secret (RFC 7523 §2.2), a new one
	// for every request: gatehouse accepts each jti once.
	AuthPrivateKeyJWT AuthMethod = "private_key_jwt"
	// AuthFederated sends no client credential: every request is an RFC
	// 7523 §2.1 jwt-bearer grant whose assertion is a new token of the
	// bench's outside issuer, signed with TokenOptions.Key, which a
	// trust of the server accepts (SeedTrust makes it).
	AuthFederated AuthMethod = "federated"
)

// clientAssertionType is the client_assertion_type of private_key_jwt.
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// tokenRequest is the one token request a run sends over and over: built
// once, so the loop spends nothing on encoding. With a client assertion
// or a DPoP proof, signers make those parts anew for every send.
type tokenRequest struct {
	url           string
	body          []byte
	contentType   string
	authorization string
	signers       *signers // nil: the request never changes
}

// signers make the parts of a token request that must be new at every
// send; a nil one is not sent. Workers share them.
type signers struct {
	assertion *assertionSigner
	dpop      *proofSigner
}

// newTokenRequest builds the client credentials request of o.
func newTokenRequest(o TokenOptions) (tokenRequest, error) {
	grant := "client_credentials"
	if o.Auth == AuthFederated {
		grant = GrantJWTBearer
	}
	params := [][2]string{{"grant_type", grant}}
	if o.Audience != "" {
		params = append(params, [2]string{"audience", o.Audience})
	}
	if o.Scope != "" {
		params = append(params, [2]string{"scope", o.Scope})
	}
	creds := [][2]string{{"client_id", o.ClientID}, {"client_secret", o.ClientSecret}}
	r := tokenRequest{url: strings.TrimRight(o.URL, "/") + "/oauth/token"}
	switch o.Auth {
	case AuthPost, "":
		r.body, r.contentType = formBody(append(params, creds...)), "application/x-www-form-urlencoded"
	case AuthBasic:
		r.body, r.contentType = formBody(params), "application/x-www-form-urlencoded"
		r.authorization = basicAuthorization(o.ClientID, o.ClientSecret)
	case AuthPrivateKeyJWT:
		// The assertion is the body's last parameter, added at each send.
		creds = [][2]string{{"client_id", o.ClientID}, {"client_assertion_type", clientAssertionType}}
		r.body, r.contentType = formBody(append(params, creds...)), "application/x-www-form-urlencoded"
	case AuthFederated:
		// client_id picks the rule's client; the assertion comes last.
		r.body, r.contentType = formBody(append(params, [2]string{"client_id", o.ClientID})), "application/x-www-form-urlencoded"
	case AuthJSON:
		obj := map[string]string{}
		for _, p := range append(params, creds...) {
			obj[p[0]] = p[1]
		}
		body, err := json.Marshal(obj)
		if err != nil {
			return tokenRequest{}, err
		}
		r.body, r.contentType = body, "application/json"
	default:
		return tokenRequest{}, fmt.Errorf("unknown client authentication %q (want post, basic, json, private_key_jwt or federated)", o.Auth)
	}
	return r, r.addSigners(o)
}

// addSigners prepares the assertion and DPoP signers o asks for, and signs
// once with each, so that a key that cannot sign fails the run at start.
func (r *tokenRequest) addSigners(o TokenOptions) error {
	var s signers
	var err error
	switch o.Auth {
	case AuthPrivateKeyJWT:
		if s.assertion, err = newAssertionSigner(o.Key, o.Alg, o.KeyID, o.ClientID, r.url); err != nil {
			return fmt.Errorf("the client assertion key: %w", err)
		}
	case AuthFederated:
		if s.assertion, err = newOutsideSigner(o.Key, o.Alg); err != nil {
			return fmt.Errorf("the outside issuer's key: %w", err)
		}
	}
	if o.DPoP {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		if s.dpop, err = newProofSigner(key, r.url); err != nil {
			return fmt.Errorf("the DPoP key: %w", err)
		}
	}
	if s.assertion == nil && s.dpop == nil {
		return nil
	}
	r.signers = &s
	return newFreshParts(&s).next(time.Now())
}

// freshParts is one worker's use of the signers: its buffers, and the
// last DPoP nonce the server gave it (RFC 9449 §8).
type freshParts struct {
	*signers
	nonce   []byte // a JSON string, or empty
	scratch []byte
	// tail ends the next send's body (&client_assertion=...), proof is
	// its DPoP header; both are empty when not sent.
	tail, proof []byte
}

func newFreshParts(s *signers) *freshParts { return &freshParts{signers: s} }

// next signs the parts of the next send.
func (f *freshParts) next(now time.Time) error {
	var err error
	f.tail, f.proof = f.tail[:0], f.proof[:0]
	if f.assertion != nil {
		f.tail = append(f.tail, f.assertion.param...) // base64url and dots need no escaping
		if f.tail, f.scratch, err = f.assertion.sign(f.tail, f.scratch, now); err != nil {
			return err
		}
	}
	if f.dpop != nil {
		if f.proof, f.scratch, err = f.dpop.sign(f.proof, f.scratch, f.nonce, now); err != nil {
			return err
		}
	}
	return nil
}

// setNonce keeps the nonce of a DPoP-Nonce header for the next proofs.
func (f *freshParts) setNonce(nonce string) {
	if f.dpop != nil {
		f.nonce = appendJSONString(f.nonce[:0], nonce)
	}
}

func formBody(params [][2]string) []byte {
	v := url.Values{}
	for _, p := range params {
		v.Set(p[0], p[1])
	}
	return []byte(v.Encode())
}

// new returns a fresh *http.Request for one send, with the parts fresh
// has signed for it (fresh may be nil).
func (r tokenRequest) new(ctx context.Context, fresh *freshParts) (*http.Request, error) {
	body := r.body
	if fresh != nil && len(fresh.tail) > 0 {
		body = append(append([]byte(nil), r.body...), fresh.tail...)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", r.contentType)
	req.Header.Set("Accept", "application/json")
	if r.authorization != "" {
		req.Header.Set("Authorization", r.authorization)
	}
	if fresh != nil && len(fresh.proof) > 0 {
		req.Header.Set("DPoP", string(fresh.proof))
	}
	return req, nil
}

// basicAuthorization returns the client_secret_basic header value: RFC 6749
// §2.3.1 has id and secret form-encoded before they are joined with ':' and
// base64-encoded, which (*http.Request).SetBasicAuth does not do.
func basicAuthorization(clientID, secret string) string {
	pair := url.QueryEscape(clientID) + ":" + url.QueryEscape(secret)
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(pair))
}
