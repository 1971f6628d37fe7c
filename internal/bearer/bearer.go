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

// SchemeBearer is RFC 6750's scheme: the token alone proves the right.
const SchemeBearer Scheme = "Bearer"

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

// Challenge is one WWW-Authenticate challenge (RFC 6750 §3). Empty fields
// are left out; a challenge without a Code, the answer to a request with no
// token (RFC 6750 §3.1), carries no description either.
type Challenge struct {
	Scheme      Scheme // required
	Realm       string
	Code        string // the error code: invalid_request, invalid_token, insufficient_scope
	Description string
	Scope       string // the scopes the resource needs, space-separated
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
	w.Header().Set("WWW-Authenticate", c.String())
	WriteError(w, status, c.Code, c.Description)
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
