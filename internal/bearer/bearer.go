package bearer

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
)

// Scheme is an HTTP authentication scheme that carries an access token.
type Scheme string

// The schemes an access token comes in.
const (
	// SchemeBearer is RFC 6750's scheme: the token alone proves the right.
	SchemeBearer Scheme = "Bearer"
	// SchemeDPoP is RFC 9449's scheme (§7.1): the token comes with a proof
	// of possession of the key it is bound to, in the DPoP header.
	SchemeDPoP Scheme = "DPoP"
)

// Token is an access token read from a request, and the scheme it came in.
type Token struct {
	Scheme Scheme
	Value  string
}

var (
	// ErrNoToken: no Authorization header, or one whose scheme the caller
	// does not accept. RFC 6750 §3.1 answers it with a challenge without
	// an error code.
	ErrNoToken = errors.New("no access token")
	// ErrMalformed: several Authorization headers, or an accepted scheme
	// with an empty token or a token holding a space; invalid_request.
	ErrMalformed = errors.New("malformed Authorization header")
)

// FromHeader reads "Authorization: <scheme> <token>" from h for one of the
// accepted schemes, the scheme matched in any case. With no scheme
// accepted, every request has no token.
func FromHeader(h http.Header, accepted ...Scheme) (Token, error) {
	values := h.Values("Authorization")
	switch len(values) {
	case 0:
		return Token{}, ErrNoToken
	case 1:
	default:
		return Token{}, ErrMalformed
	}
	name, value, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
	i := slices.IndexFunc(accepted, func(s Scheme) bool { return strings.EqualFold(name, string(s)) })
	if i < 0 {
		return Token{}, ErrNoToken
	}
	value = strings.TrimSpace(value)
	if value == "" || strings.ContainsAny(value, " \t") {
		return Token{}, ErrMalformed
	}
	return Token{Scheme: accepted[i], Value: value}, nil
}

// Challenge is one WWW-Authenticate challenge (RFC 6750 §3, RFC 9449
// §7.1). Empty fields are left out; a challenge without a Code, the answer
// to a request with no token (RFC 6750 §3.1), carries no description
// either.
type Challenge struct {
	Scheme Scheme // required
	Realm  string
	// Code is the error code: invalid_request, invalid_token,
	// insufficient_scope, and for DPoP invalid_dpop_proof and
	// use_dpop_nonce.
	Code        string
	Description string
	Scope       string // the scopes the resource needs, space-separated
	// Algs, on a DPoP challenge, are the proof algorithms the resource
	// accepts, space-separated (RFC 9449 §7.1).
	Algs string
	// ResourceMetadata is the URL of the resource's RFC 9728 metadata
	// (RFC 9728 §5.1).
	ResourceMetadata string
}

// String is the header value, e.g.
// Bearer realm="api", error="invalid_token", error_description="token expired".
func (c Challenge) String() string {
	var params []string
	add := func(name, value string) {
		if value != "" {
			params = append(params, name+`="`+quotable(value)+`"`)
		}
	}
	add("realm", c.Realm)
	add("error", c.Code)
	if c.Code != "" {
		add("error_description", c.Description)
	}
	add("scope", c.Scope)
	add("algs", c.Algs)
	add("resource_metadata", c.ResourceMetadata)
	if len(params) == 0 {
		return string(c.Scheme)
	}
	return string(c.Scheme) + " " + strings.Join(params, ", ")
}

// quotable drops what RFC 6750 §3 does not allow inside a quoted value:
// ", \ and anything outside printable ASCII.
func quotable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}

// WriteChallenge refuses a request: c as WWW-Authenticate, and its code and
// description as the JSON error body.
func WriteChallenge(w http.ResponseWriter, status int, c Challenge) {
	WriteChallenges(w, status, c)
}

// WriteChallenges refuses a request with one WWW-Authenticate header per
// challenge, in order, for a resource that accepts several schemes
// (RFC 9110 §11.6.1; RFC 9449 §7.1 answers Bearer and DPoP together). The
// JSON error body holds the code and description of the first, which
// should be the one the refusal is about.
func WriteChallenges(w http.ResponseWriter, status int, first Challenge, more ...Challenge) {
	w.Header().Del("WWW-Authenticate")
	for _, c := range append([]Challenge{first}, more...) {
		w.Header().Add("WWW-Authenticate", c.String())
	}
	WriteError(w, status, first.Code, first.Description)
}

// WriteError writes status and the JSON error body, never to be cached. An
// empty code is left out of the body (a request with no token has none,
// RFC 6750 §3.1); the description is always there.
func WriteError(w http.ResponseWriter, status int, code, description string) {
	body := struct {
		Error       string `json:"error,omitempty"`
		Description string `json:"error_description"`
	}{code, description}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
