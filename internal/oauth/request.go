package oauth

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// MaxBodyBytes bounds a token request body; real ones are a few hundred bytes.
const MaxBodyBytes = 16 << 10

// TokenRequest is a parsed request to a token, introspection or
// revocation endpoint, before any policy is applied.
type TokenRequest struct {
	GrantType    string
	ClientID     string
	ClientSecret string
	// Basic is true when the credentials came in an HTTP Basic header.
	Basic    bool
	Audience string
	Resource string
	Scope    string
	// ScopeGiven distinguishes an absent scope from an empty one.
	ScopeGiven bool
	// Token and TokenTypeHint are the subject of introspection (RFC 7662)
	// and revocation (RFC 7009).
	Token         string
	TokenTypeHint string
	// ClientAssertionType and ClientAssertion carry RFC 7523 §2.2 client
	// authentication (private_key_jwt).
	ClientAssertionType string
	ClientAssertion     string
	// DPoP is the request's one DPoP proof header (RFC 9449 §4), or "".
	DPoP string
	// Assertion is the JWT of the RFC 7523 §2.1 jwt-bearer grant.
	Assertion string
	// SubjectToken and SubjectTokenType, ActorToken and ActorTokenType,
	// and RequestedTokenType are RFC 8693 §2.1 token exchange parameters.
	SubjectToken       string
	SubjectTokenType   string
	ActorToken         string
	ActorTokenType     string
	RequestedTokenType string

	// Set by the endpoint, not parsed: the client certificate the caller
	// presented (RFC 8705), with the chain it sent, and the endpoint's
	// URL as clients address it (a DPoP proof's htu and an assertion's
	// audience).
	ClientCert  *x509.Certificate
	CertChain   []*x509.Certificate
	EndpointURL string
}

// ClientAssertionJWT is the only client_assertion_type (RFC 7523 §2.2).
const ClientAssertionJWT = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Grant types and token types of workload identity federation and token
// exchange (RFC 7523 §2.1, RFC 8693 §3).
const (
	GrantJWTBearer     = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	GrantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	TokenTypeJWT       = "urn:ietf:params:oauth:token-type:jwt"
	TokenTypeIDToken   = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeAccess    = "urn:ietf:params:oauth:token-type:access_token"
)

// ParseOptions says where a token endpoint reads parameters from.
type ParseOptions struct {
	// AllowQuery lets parameters, credentials included, come in the query
	// string (only the per-service endpoint of the gateway documents does).
	AllowQuery bool
}

// ParseTokenRequest reads a token request from r. Every failure is an
// *Error: 413 for an oversized body, 400 invalid_request for repeated
// parameters, unknown content types, malformed bodies and conflicting
// credentials, 401 invalid_client for a malformed Basic header.
func ParseTokenRequest(w http.ResponseWriter, r *http.Request, opts ParseOptions) (TokenRequest, error) {
	var req TokenRequest
	params, err := readParams(w, r)
	if err != nil {
		return req, err
	}
	if r.URL.RawQuery != "" {
		query, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return req, ErrInvalidRequest("The query string is malformed.")
		}
		if !opts.AllowQuery {
			// RFC 6749 §2.3.1: credentials never travel in the URL here.
			if query.Has("client_secret") {
				return req, ErrInvalidRequest("client_secret must not be sent in the URL; send it in the body or an Authorization header.")
			}
		} else {
			for k, vs := range query {
				params[k] = append(params[k], vs...)
			}
		}
	}
	for k, vs := range params {
		if len(vs) > 1 {
			return req, ErrInvalidRequest("Parameter %q is included more than once.", truncate(k))
		}
	}
	get := func(k string) string {
		if vs := params[k]; len(vs) == 1 {
			return vs[0]
		}
		return ""
	}
	req.GrantType = get("grant_type")
	req.ClientID = get("client_id")
	req.ClientSecret = get("client_secret")
	req.Audience = get("audience")
	req.Resource = get("resource")
	req.Scope = get("scope")
	_, req.ScopeGiven = params["scope"]
	req.Token = get("token")
	req.TokenTypeHint = get("token_type_hint")
	req.ClientAssertionType = get("client_assertion_type")
	req.ClientAssertion = get("client_assertion")
	req.Assertion = get("assertion")
	req.SubjectToken = get("subject_token")
	req.SubjectTokenType = get("subject_token_type")
	req.ActorToken = get("actor_token")
	req.ActorTokenType = get("actor_token_type")
	req.RequestedTokenType = get("requested_token_type")
	switch proofs := r.Header.Values("DPoP"); len(proofs) {
	case 0:
	case 1:
		req.DPoP = proofs[0]
	default:
		return req, ErrInvalidDPoPProof("Send one DPoP proof, not several.", nil)
	}

	if err := req.applyBasic(r.Header.Get("Authorization")); err != nil {
		return req, err
	}
	return req, nil
}

// applyBasic takes client_secret_basic credentials (RFC 6749 §2.3.1: the id
// and secret are form-encoded, then joined by ':' and base64-encoded).
func (req *TokenRequest) applyBasic(header string) error {
	scheme, value, _ := strings.Cut(header, " ")
	if header == "" || !strings.EqualFold(scheme, "Basic") {
		return nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
	if err != nil {
		return ErrInvalidClient(true)
	}
	encID, encSecret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return ErrInvalidClient(true)
	}
	id, err1 := url.QueryUnescape(encID)
	secret, err2 := url.QueryUnescape(encSecret)
	if err1 != nil || err2 != nil || id == "" {
		return ErrInvalidClient(true)
	}
	if req.ClientSecret != "" {
		return ErrInvalidRequest("Use one client authentication method: an Authorization header or client_secret in the body, not both.")
	}
	if req.ClientID != "" && req.ClientID != id {
		return ErrInvalidRequest("client_id in the body does not match the Authorization header.")
	}
	req.ClientID, req.ClientSecret, req.Basic = id, secret, true
	return nil
}

// readParams reads the body as a form or a flat JSON object.
func readParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, ErrTooLarge(MaxBodyBytes)
		}
		return nil, ErrInvalidRequest("The request body could not be read.")
	}
	ct := r.Header.Get("Content-Type")
	if len(bytes.TrimSpace(body)) == 0 {
		return url.Values{}, nil
	}
	if ct == "" {
		return nil, ErrInvalidRequest("Content-Type is required with a body: application/x-www-form-urlencoded or application/json.")
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, ErrInvalidRequest("Content-Type is malformed.")
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, ErrInvalidRequest("The form body is malformed.")
		}
		return v, nil
	case "application/json":
		return parseJSONParams(body)
	default:
		return nil, ErrInvalidRequest("Content-Type %q is not supported; use application/x-www-form-urlencoded or application/json.", truncate(mt))
	}
}

// parseJSONParams reads a flat JSON object of string values, rejecting
// repeated keys (which encoding/json would silently merge).
func parseJSONParams(body []byte) (url.Values, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	malformed := ErrInvalidRequest("The JSON body is malformed; send one object of string values.")
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, malformed
	}
	out := url.Values{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, malformed
		}
		key, ok := tok.(string)
		if !ok {
			return nil, malformed
		}
		tok, err = dec.Token()
		if err != nil {
			return nil, malformed
		}
		val, ok := tok.(string)
		if !ok {
			return nil, ErrInvalidRequest("Parameter %q must be a string.", truncate(key))
		}
		if out.Has(key) {
			return nil, ErrInvalidRequest("Parameter %q is included more than once.", truncate(key))
		}
		out.Set(key, val)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, malformed
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed
	}
	return out, nil
}
