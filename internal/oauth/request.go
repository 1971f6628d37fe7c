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
	bp := bodyBuffers.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledBuffer {
			bodyBuffers.Put(bp)
		}
	}()
	var p params
	if err := readParams(w, r, opts, bp, &p); err != nil {
		return req, err
	}
	req.GrantType = p.val[pGrantType]
	req.ClientID = p.val[pClientID]
	req.ClientSecret = p.val[pClientSecret]
	req.Audience = p.val[pAudience]
	req.Resource = p.val[pResource]
	req.Scope = p.val[pScope]
	req.ScopeGiven = p.has(pScope)
	req.Token = p.val[pToken]
	req.TokenTypeHint = p.val[pTokenTypeHint]
	req.ClientAssertionType = p.val[pClientAssertionType]
	req.ClientAssertion = p.val[pClientAssertion]
	req.Assertion = p.val[pAssertion]
	req.SubjectToken = p.val[pSubjectToken]
	req.SubjectTokenType = p.val[pSubjectTokenType]
	req.ActorToken = p.val[pActorToken]
	req.ActorTokenType = p.val[pActorTokenType]
	req.RequestedTokenType = p.val[pRequestedTokenType]
	// "Dpop" is the canonical form of DPoP: indexing the map directly
	// spares Header.Values canonicalizing the name on every request.
	switch proofs := r.Header["Dpop"]; len(proofs) {
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
	// Decoded on the stack: only the string made of it is kept.
	enc := strings.TrimSpace(value)
	var space [256]byte
	raw := space[:]
	if n := base64.StdEncoding.DecodedLen(len(enc)); n > len(raw) {
		raw = make([]byte, n)
	}
	n, err := base64.StdEncoding.Decode(raw, []byte(enc))
	if err != nil {
		return ErrInvalidClient(true)
	}
	encID, encSecret, ok := strings.Cut(string(raw[:n]), ":")
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

// readParams reads the body as a form or a flat JSON object, and the query
// string (whose parameters count only with opts.AllowQuery), into p. Its
// refusals come in this order: the body (size, Content-Type, syntax, a
// repeated JSON key), a malformed query string, client_secret in a query
// string that may not carry it, a repeated parameter.
func readParams(w http.ResponseWriter, r *http.Request, opts ParseOptions, bp *[]byte, p *params) error {
	buf, tooBig, err := readBody(w, r.Body, (*bp)[:0])
	*bp = buf
	if err != nil {
		var outer *http.MaxBytesError // a limit of the server's own
		if errors.As(err, &outer) {
			return ErrTooLarge(MaxBodyBytes)
		}
		return ErrInvalidRequest("The request body could not be read.")
	}
	if tooBig {
		return ErrTooLarge(MaxBodyBytes)
	}
	// Each form's fields are decoded in place in buf; most requests have
	// a handful, which fit here without an allocation.
	var fieldSpace [24]field
	fields := fieldSpace[:0]
	decoded := 0 // buf[:decoded] holds the decoded form fields
	if len(bytes.TrimSpace(buf)) > 0 {
		ct := r.Header.Get("Content-Type")
		if ct == "" {
			return ErrInvalidRequest("Content-Type is required with a body: application/x-www-form-urlencoded or application/json.")
		}
		mt, err := mediaType(ct)
		if err != nil {
			return ErrInvalidRequest("Content-Type is malformed.")
		}
		switch mt {
		case "application/x-www-form-urlencoded":
			var ok bool
			if fields, decoded, ok = decodeForm(buf, 0, fields); !ok {
				return ErrInvalidRequest("The form body is malformed.")
			}
		case "application/json":
			if err := parseJSONParams(buf, p); err != nil {
				return err
			}
		default:
			return ErrInvalidRequest("Content-Type %q is not supported; use application/x-www-form-urlencoded or application/json.", truncate(mt))
		}
	}
	bodyFields := len(fields)
	if r.URL.RawQuery != "" {
		buf = append(buf[:decoded], r.URL.RawQuery...)
		*bp = buf
		var ok bool
		if fields, decoded, ok = decodeForm(buf, decoded, fields); !ok {
			return ErrInvalidRequest("The query string is malformed.")
		}
	}
	// One string holds every decoded name and value.
	text := string(buf[:decoded])
	name := func(f field) string { return text[f.k0:f.k1] }
	if !opts.AllowQuery {
		// RFC 6749 §2.3.1: credentials never travel in the URL here.
		for _, f := range fields[bodyFields:] {
			if name(f) == "client_secret" {
				return ErrInvalidRequest("client_secret must not be sent in the URL; send it in the body or an Authorization header.")
			}
		}
		fields = fields[:bodyFields]
	}
	for _, f := range fields {
		if p.add(name(f), text[f.v0:f.v1]) {
			return errRepeated(name(f))
		}
	}
	return nil
}

func errRepeated(name string) *Error {
	return ErrInvalidRequest("Parameter %q is included more than once.", truncate(name))
}

// mediaType is mime.ParseMediaType's media type, without its work for the
// two types clients send as they are.
func mediaType(ct string) (string, error) {
	switch ct {
	case "application/x-www-form-urlencoded", "application/json":
		return ct, nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	return mt, err
}

// parseJSONParams reads a flat JSON object of string values into p,
// rejecting repeated keys (which encoding/json would silently merge).
func parseJSONParams(body []byte, p *params) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	malformed := func() error {
		return ErrInvalidRequest("The JSON body is malformed; send one object of string values.")
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return malformed()
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return malformed()
		}
		key, ok := tok.(string)
		if !ok {
			return malformed()
		}
		tok, err = dec.Token()
		if err != nil {
			return malformed()
		}
		val, ok := tok.(string)
		if !ok {
			return ErrInvalidRequest("Parameter %q must be a string.", truncate(key))
		}
		if p.add(key, val) {
			return errRepeated(key)
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return malformed()
	}
	if _, err := dec.Token(); err != io.EOF {
		return malformed()
	}
	return nil
}
