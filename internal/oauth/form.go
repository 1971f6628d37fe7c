package oauth

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// This file reads a token request's parameters without building a
// url.Values: the form is decoded in place in one pooled buffer, and the
// parameters a TokenRequest holds are kept by index. The rules are
// url.ParseQuery's, byte for byte (FuzzDecodeForm checks it), plus RFC
// 6749 §3.2: no parameter, known or not, may be given twice.

// The parameters a TokenRequest holds, by index in params.val.
const (
	pGrantType = iota
	pClientID
	pClientSecret
	pAudience
	pResource
	pScope
	pToken
	pTokenTypeHint
	pClientAssertionType
	pClientAssertion
	pAssertion
	pSubjectToken
	pSubjectTokenType
	pActorToken
	pActorTokenType
	pRequestedTokenType
	numParams
)

// paramIndex is name's index in params.val, or -1 for a parameter a
// TokenRequest does not hold.
func paramIndex(name string) int {
	switch name {
	case "grant_type":
		return pGrantType
	case "client_id":
		return pClientID
	case "client_secret":
		return pClientSecret
	case "audience":
		return pAudience
	case "resource":
		return pResource
	case "scope":
		return pScope
	case "token":
		return pToken
	case "token_type_hint":
		return pTokenTypeHint
	case "client_assertion_type":
		return pClientAssertionType
	case "client_assertion":
		return pClientAssertion
	case "assertion":
		return pAssertion
	case "subject_token":
		return pSubjectToken
	case "subject_token_type":
		return pSubjectTokenType
	case "actor_token":
		return pActorToken
	case "actor_token_type":
		return pActorTokenType
	case "requested_token_type":
		return pRequestedTokenType
	}
	return -1
}

// params are a request's parameters: the values of those a TokenRequest
// holds, and the names of the others, which are ignored but may not be
// repeated either.
type params struct {
	val    [numParams]string
	given  uint32 // bit i: val[i] was given
	others []string
	// otherSet replaces the scan of others once there are many of them,
	// so that a body of thousands of names costs no more than a map.
	otherSet map[string]struct{}
}

// manyOthers is how many other names are scanned before a map is built.
const manyOthers = 16

// add records one parameter and reports whether its name was given before.
func (p *params) add(name, value string) (repeated bool) {
	if i := paramIndex(name); i >= 0 {
		if p.given&(1<<i) != 0 {
			return true
		}
		p.given |= 1 << i
		p.val[i] = value
		return false
	}
	if p.otherSet != nil {
		if _, ok := p.otherSet[name]; ok {
			return true
		}
		p.otherSet[name] = struct{}{}
		return false
	}
	for _, o := range p.others {
		if o == name {
			return true
		}
	}
	p.others = append(p.others, name)
	if len(p.others) > manyOthers {
		p.otherSet = make(map[string]struct{}, 2*len(p.others))
		for _, o := range p.others {
			p.otherSet[o] = struct{}{}
		}
	}
	return false
}

func (p *params) has(i int) bool { return p.given&(1<<i) != 0 }

// A field is one decoded parameter of a form: its name is buf[k0:k1] and
// its value buf[v0:v1] of the buffer decodeForm wrote it to.
type field struct{ k0, k1, v0, v1 int }

// decodeForm decodes the application/x-www-form-urlencoded form in
// buf[from:] as url.ParseQuery reads one: '&' separates parameters and
// empty ones are skipped; a ';' anywhere in one refuses the form; the name
// ends at the first '='; name and value are unescaped as by
// url.QueryUnescape ('+' is a space, and a '%' not followed by two hex
// digits refuses the form). Each name and value is written back into buf
// from from on, never ahead of where it is read, and appended to fields.
// It returns the fields, where the decoded text ends, and false where
// url.ParseQuery would return an error.
func decodeForm(buf []byte, from int, fields []field) ([]field, int, bool) {
	if !withinParamLimit(buf[from:]) {
		return fields, from, false
	}
	w := from
	for i := from; i < len(buf); {
		end := len(buf)
		if n := bytes.IndexByte(buf[i:], '&'); n >= 0 {
			end = i + n
		}
		seg := buf[i:end]
		next := end + 1
		if bytes.IndexByte(seg, ';') >= 0 {
			return fields, w, false
		}
		if len(seg) == 0 {
			i = next
			continue
		}
		keyEnd, valStart := end, end
		if n := bytes.IndexByte(seg, '='); n >= 0 {
			keyEnd, valStart = i+n, i+n+1
		}
		var f field
		var ok bool
		f.k0 = w
		if w, ok = unescapeInPlace(buf, i, keyEnd, w); !ok {
			return fields, w, false
		}
		f.k1, f.v0 = w, w
		if w, ok = unescapeInPlace(buf, valStart, end, w); !ok {
			return fields, w, false
		}
		f.v1 = w
		fields = append(fields, f)
		i = next
	}
	return fields, w, true
}

// unescapeInPlace decodes buf[from:to] to buf[w:] as url.QueryUnescape
// does, with w <= from, and returns where the decoded text ends; false
// for a malformed escape.
func unescapeInPlace(buf []byte, from, to, w int) (int, bool) {
	for i := from; i < to; {
		switch c := buf[i]; c {
		case '%':
			if i+2 >= to || !isHex(buf[i+1]) || !isHex(buf[i+2]) {
				return w, false
			}
			buf[w] = unhex(buf[i+1])<<4 | unhex(buf[i+2])
			i += 3
		case '+':
			buf[w] = ' '
			i++
		default:
			buf[w] = c
			i++
		}
		w++
	}
	return w, true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// fewParams is a number of parameters url.ParseQuery accepts: a form with
// fewer '&' than that is within its limit (10,000 unless GODEBUG
// urlmaxqueryparams sets another, which this asks once at start).
var fewParams = func() int {
	const n = 64
	if _, err := url.ParseQuery(strings.Repeat("&", n-1)); err != nil {
		return 0
	}
	return n
}()

// withinParamLimit reports whether url.ParseQuery would accept the number
// of parameters of form. A form of many asks url.ParseQuery itself,
// whose other refusals decodeForm makes too.
func withinParamLimit(form []byte) bool {
	if bytes.Count(form, []byte{'&'}) < fewParams {
		return true
	}
	_, err := url.ParseQuery(string(form))
	return err == nil
}

// bodyBuffers hold request bodies while they are decoded.
var bodyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// maxPooledBuffer bounds the buffers kept for reuse: a body and a long
// query string, not a giant URL.
const maxPooledBuffer = 64 << 10

// readBody appends r's body to buf as io.ReadAll(http.MaxBytesReader(w,
// r.Body, MaxBodyBytes)) would read it. tooBig reports a body over
// MaxBodyBytes, after which the server is told to close the connection as
// http.MaxBytesReader tells it.
func readBody(w http.ResponseWriter, body io.Reader, buf []byte) (_ []byte, tooBig bool, err error) {
	for {
		p := buf[len(buf):cap(buf)]
		if room := MaxBodyBytes - len(buf); len(p)-1 > room {
			p = p[:room+1]
		}
		n, err := body.Read(p)
		if len(buf)+n > MaxBodyBytes {
			tellTooLarge(w)
			return buf[:MaxBodyBytes], true, nil
		}
		buf = buf[:len(buf)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return buf, false, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

// tellTooLarge has http.MaxBytesReader see one byte over its limit, so
// that it tells w's server to close the connection after the answer (a
// method net/http does not export).
func tellTooLarge(w http.ResponseWriter) {
	var one [1]byte
	http.MaxBytesReader(w, io.NopCloser(bytes.NewReader(one[:])), 0).Read(one[:])
}
