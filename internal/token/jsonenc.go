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

// appendField appends ,"name":"value" (name needs no escaping), or only
// "name":"value" at the start of an object.
func appendField(b []byte, name, value string) []byte {
	return jsonw.AppendString(jsonw.AppendKey(b, name), value)
}

func appendInt(b []byte, name string, v int64) []byte {
	return strconv.AppendInt(jsonw.AppendKey(b, name), v, 10)
}

// appendClaims writes c as encoding/json would: the string and number
// claims by hand, and the rarer objects (cnf, ext, act) through
// encoding/json, each after the claims it follows in Claims.
func appendClaims(b []byte, c *Claims) ([]byte, error) {
	b = append(b, '{')
	b = appendField(b, "iss", c.Issuer)
	if c.ownSubject {
		// A JSON string ends with '"' and "@clients" needs no escaping:
		// this is appendField(b, "sub", c.ClientID+"@clients").
		b = appendField(b, "sub", c.ClientID)
		b = append(b[:len(b)-1], `@clients"`...)
	} else {
		b = appendField(b, "sub", c.Subject)
	}
	b = appendField(b, "aud", c.Audience)
	b = appendInt(b, "iat", c.IssuedAt)
	b = appendInt(b, "exp", c.Expiry)
	b = appendField(b, "jti", c.JTI)
	b = appendField(b, "client_id", c.ClientID)
	b = appendField(b, "azp", c.AZP)
	b = appendField(b, "scope", c.Scope)
	b = appendField(b, "gty", c.GrantType)
	for _, f := range [...]struct{ name, v string }{{"tenant", c.Tenant}, {"environment", c.Environment}, {"service", c.Service}, {"api_key", c.APIKey}} {
		if f.v != "" {
			b = appendField(b, f.name, f.v)
		}
	}
	for _, f := range [...]struct {
		name string
		v    any
		set  bool
	}{{"cnf", c.Cnf, c.Cnf != nil}, {"ext", c.Ext, c.Ext != nil}, {"act", c.Act, len(c.Act) > 0}} {
		if !f.set {
			continue
		}
		v, err := json.Marshal(f.v)
		if err != nil {
			return b, fmt.Errorf("claim %s: %w", f.name, err)
		}
		b = append(b, ',', '"')
		b = append(b, f.name...)
		b = append(b, '"', ':')
		b = append(b, v...)
	}
	return append(b, '}'), nil
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
	b = appendField(b, "access_token", resp.AccessToken)
	b = appendField(b, "scope", resp.Scope)
	b = appendInt(b, "expires_in", resp.ExpiresIn)
	b = appendField(b, "token_type", resp.TokenType)
	if resp.IssuedTokenType != "" {
		b = appendField(b, "issued_token_type", resp.IssuedTokenType)
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
