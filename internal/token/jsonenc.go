package token

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/gatehouse/gatehouse/internal/jsonw"
)

// The token endpoint's two JSON documents (the claims and the answer) are
// written by hand into pooled buffers: encoding/json's reflection was a
// tenth of an issuance's allocations. jsonw.AppendString escapes exactly
// as encoding/json does (its FuzzAppendString compares them).

var jsonBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func appendInt(b []byte, name string, v int64) []byte {
	return strconv.AppendInt(jsonw.AppendKey(b, name), v, 10)
}

// appendClaims writes c as encoding/json would: the string and number
// claims and ext by hand, and the rarer objects (cnf, act) through
// encoding/json, each after the claims it follows in Claims.
func appendClaims(b []byte, c *Claims) ([]byte, error) {
	b = append(b, '{')
	b = jsonw.AppendField(b, "iss", c.Issuer)
	if c.ownSubject {
		// A JSON string ends with '"' and "@clients" needs no escaping:
		// this is jsonw.AppendField(b, "sub", c.ClientID+"@clients").
		b = jsonw.AppendField(b, "sub", c.ClientID)
		b = append(b[:len(b)-1], `@clients"`...)
	} else {
		b = jsonw.AppendField(b, "sub", c.Subject)
	}
	b = jsonw.AppendField(b, "aud", c.Audience)
	b = appendInt(b, "iat", c.IssuedAt)
	b = appendInt(b, "exp", c.Expiry)
	b = jsonw.AppendField(b, "jti", c.JTI)
	b = jsonw.AppendField(b, "client_id", c.ClientID)
	b = jsonw.AppendField(b, "azp", c.AZP)
	b = jsonw.AppendField(b, "scope", c.Scope)
	b = jsonw.AppendField(b, "gty", c.GrantType)
	for _, f := range [...]struct{ name, v string }{{"tenant", c.Tenant}, {"environment", c.Environment}, {"service", c.Service}, {"api_key", c.APIKey}} {
		if f.v != "" {
			b = jsonw.AppendField(b, f.name, f.v)
		}
	}
	var err error
	if c.Cnf != nil {
		if b, err = appendMarshalled(b, "cnf", c.Cnf); err != nil {
			return b, err
		}
	}
	if c.Ext != nil {
		b = c.Ext.AppendJSON(jsonw.AppendKey(b, "ext"))
	}
	if len(c.Act) > 0 {
		if b, err = appendMarshalled(b, "act", c.Act); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// appendMarshalled appends "name": and v as encoding/json writes it.
func appendMarshalled(b []byte, name string, v any) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return b, fmt.Errorf("claim %s: %w", name, err)
	}
	return append(jsonw.AppendKey(b, name), j...), nil
}

// Shared header values: net/http only reads them, and Set replaces them.
var (
	jsonType     = []string{"application/json"}
	noStoreValue = []string{"no-store"}
	noCacheValue = []string{"no-cache"}
)

// contentLengths are shared Content-Length values by length, made once:
// the answers to one client for one API are all about the same length.
var contentLengths [4096]atomic.Pointer[[]string]

func contentLength(n int) []string {
	if n >= len(contentLengths) {
		return []string{strconv.Itoa(n)}
	}
	if v := contentLengths[n].Load(); v != nil {
		return *v
	}
	v := []string{strconv.Itoa(n)}
	contentLengths[n].Store(&v)
	return v
}

// writeResponse answers a token request: 200 and resp as JSON, with
// Cache-Control: no-store (RFC 6749 §5.1).
func writeResponse(w http.ResponseWriter, resp Response) {
	bp := jsonBuffers.Get().(*[]byte)
	defer jsonBuffers.Put(bp)
	b := append((*bp)[:0], '{')
	b = jsonw.AppendField(b, "access_token", resp.AccessToken)
	b = jsonw.AppendField(b, "scope", resp.Scope)
	b = appendInt(b, "expires_in", resp.ExpiresIn)
	b = jsonw.AppendField(b, "token_type", resp.TokenType)
	if resp.IssuedTokenType != "" {
		b = jsonw.AppendField(b, "issued_token_type", resp.IssuedTokenType)
	}
	b = append(b, '}', '\n')
	*bp = b
	h := w.Header()
	h["Cache-Control"] = noStoreValue
	h["Pragma"] = noCacheValue
	h["Content-Type"] = jsonType
	h["Content-Length"] = contentLength(len(b))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}
