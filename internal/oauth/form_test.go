package oauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The form reader must read exactly what url.ParseQuery reads: these
// fuzz tests hold it to that, and the whole parser to the url.Values
// based one it replaced (refParseTokenRequest, below).

var formSeeds = []string{
	"", "&", "&&", "=", "a", "a=", "=a", "a=b", "a=b&", "&a=b", "a=b&&c=d", "a==b", "a=b=c",
	"client_id=abc&client_secret=s&grant_type=client_credentials&audience=https%3A%2F%2Fapi.example.io",
	"scope=a+b&scope=c", "a%3Db=c%26d", "%41%4a%4A%6a=%7e", "a=%", "a=%4", "a=%zz", "a%=b", "a=%4g", "%=",
	"a=b;c=d", ";", "a;b", "a=b&c;", "+=+", "a+b=c+d", "%00=%ff", "a=%e2%82%ac", "a\x00b=\xff",
	"a=b&a=b", "=&=", "a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10&k=11&l=12&m=13&n=14&o=15&p=16&q=17&r=18&s=19",
	strings.Repeat("&", 70), strings.Repeat("a=b&", 70), strings.Repeat("x&", 40) + "a=%zz",
}

func FuzzDecodeForm(f *testing.F) {
	for _, s := range formSeeds {
		f.Add(s, "")
		f.Add(s, "prefix=1&")
	}
	f.Fuzz(func(t *testing.T, form, prefix string) {
		want, wantErr := url.ParseQuery(form)
		buf := []byte(prefix + form)
		fields, end, ok := decodeForm(buf, len(prefix), nil)
		if ok != (wantErr == nil) {
			t.Fatalf("decodeForm(%q): got ok %v, want error %v", form, ok, wantErr)
		}
		if !ok {
			return
		}
		if end < len(prefix) || end > len(buf) {
			t.Fatalf("decodeForm(%q): got end %d outside [%d, %d]", form, end, len(prefix), len(buf))
		}
		text := string(buf[:end])
		got := url.Values{}
		for _, fd := range fields {
			if fd.k0 < len(prefix) || fd.k0 > fd.k1 || fd.k1 > fd.v0 || fd.v0 > fd.v1 || fd.v1 > end {
				t.Fatalf("decodeForm(%q): field %+v outside the decoded text [%d, %d]", form, fd, len(prefix), end)
			}
			got.Add(text[fd.k0:fd.k1], text[fd.v0:fd.v1])
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeForm(%q): got %q, want %q", form, got, want)
		}
	})
}

func FuzzParseTokenRequestMatchesParseQuery(f *testing.F) {
	for _, s := range formSeeds {
		f.Add("application/x-www-form-urlencoded", s, "", "", uint8(0))
		f.Add("", "", s, "", uint8(1))
	}
	f.Add("application/x-www-form-urlencoded; charset=UTF-8", "a=b&client_id=x", "client_id=y", "", uint8(1))
	f.Add("application/x-www-form-urlencoded", "grant_type=client_credentials", "client_secret=s&a=%zz", "", uint8(0))
	f.Add("application/x-www-form-urlencoded", "grant_type=client_credentials", "client_secret=s", "", uint8(0))
	f.Add("application/x-www-form-urlencoded", "a=%zz", "client_secret=s", "", uint8(0))
	f.Add("application/x-www-form-urlencoded", "a=1&a=2", "client_secret=s", "", uint8(0))
	f.Add("application/x-www-form-urlencoded", "a=1&a=2&b=1&b=2", "c=1&c=2", "", uint8(1))
	f.Add("application/json", `{"scope":"a","x":"1"}`, "scope=b&x=2", "", uint8(1))
	f.Add("application/json", `{"scope":"a","scope":"b"}`, "a=%zz", "", uint8(1))
	f.Add("Application/JSON", ` {"token":"t"} `, "", "Basic YWJjOnM=", uint8(2))
	f.Add("text/plain", "x", "", "", uint8(3))
	f.Add("", " \t\n", "scope=", "Basic !!", uint8(1))
	f.Add("application/x-www-form-urlencoded", "a="+strings.Repeat("b", MaxBodyBytes-2), "", "", uint8(0))
	f.Add("application/x-www-form-urlencoded", "a="+strings.Repeat("b", MaxBodyBytes-1), "", "", uint8(0))
	f.Fuzz(func(t *testing.T, contentType, body, rawQuery, authorization string, flags uint8) {
		opts := ParseOptions{AllowQuery: flags&1 != 0}
		build := func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(body))
			r.URL.RawQuery = rawQuery
			if contentType != "" {
				r.Header["Content-Type"] = []string{contentType}
			}
			if authorization != "" {
				r.Header["Authorization"] = []string{authorization}
			}
			for range flags >> 1 & 3 {
				r.Header.Add("DPoP", "proof")
			}
			return r
		}
		got, err := ParseTokenRequest(httptest.NewRecorder(), build(), opts)
		want, repeated, wantErr := refParseTokenRequest(httptest.NewRecorder(), build(), opts)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("got error %v, want %v", err, wantErr)
		}
		if err != nil {
			g, w := AsError(err), AsError(wantErr)
			if len(repeated) > 1 && g.Description != w.Description {
				// The old parser named any of the repeated parameters
				// (map order); the new one names the first.
				if !slices.ContainsFunc(repeated, func(k string) bool { return g.Description == errRepeated(k).Description }) {
					t.Fatalf("got %q, want one of the repeated parameters %q", g.Description, repeated)
				}
				w.Description = g.Description
			}
			if g.Status != w.Status || g.Code != w.Code || g.Description != w.Description || g.Challenge != w.Challenge {
				t.Fatalf("got error %d %s %q %q, want %d %s %q %q", g.Status, g.Code, g.Description, g.Challenge,
					w.Status, w.Code, w.Description, w.Challenge)
			}
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	})
}

func TestParseTokenRequestDPoPHeader(t *testing.T) {
	for n, wantErr := range []bool{false, false, true, true} {
		t.Run(fmt.Sprint(n, " proofs"), func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/oauth/token", nil)
			for i := range n {
				r.Header.Add("dpop", fmt.Sprint("proof", i))
			}
			got, err := ParseTokenRequest(httptest.NewRecorder(), r, ParseOptions{})
			if (err != nil) != wantErr {
				t.Fatalf("got error %v, want error %v", err, wantErr)
			}
			if want := map[int]string{1: "proof0"}[n]; err == nil && got.DPoP != want {
				t.Errorf("got DPoP %q, want %q", got.DPoP, want)
			}
		})
	}
}

// An oversized body makes the server close the connection after the
// answer, as http.MaxBytesReader does when it reads one.
func TestParseTokenRequestTooLargeClosesConnection(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := ParseTokenRequest(w, r, ParseOptions{})
		WriteError(w, AsError(err))
	}))
	defer srv.Close()
	for _, size := range []int{MaxBodyBytes, MaxBodyBytes + 1} {
		resp, err := http.Post(srv.URL, "application/x-www-form-urlencoded", strings.NewReader("a="+strings.Repeat("b", size-2)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if big := size > MaxBodyBytes; resp.Close != big || (resp.StatusCode == 413) != big {
			t.Errorf("%d bytes: got %d, Connection: close %v; want 413 and close %v", size, resp.StatusCode, resp.Close, big)
		}
	}
}

// failingBody fails after its first bytes.
type failingBody struct{ sent bool }

func (b *failingBody) Read(p []byte) (int, error) {
	if b.sent {
		return 0, errors.New("connection reset")
	}
	b.sent = true
	return copy(p, "grant_type="), nil
}

func TestParseTokenRequestReadError(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/oauth/token", &failingBody{})
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_, err := ParseTokenRequest(httptest.NewRecorder(), r, ParseOptions{})
	if e := AsError(err); e.Status != 400 || e.Description != "The request body could not be read." {
		t.Errorf("got %v, want 400 The request body could not be read.", err)
	}
	r = httptest.NewRequest(http.MethodPost, "/oauth/token", nil)
	r.Body = http.MaxBytesReader(nil, io.NopCloser(strings.NewReader("grant_type=x")), 4)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, err := ParseTokenRequest(httptest.NewRecorder(), r, ParseOptions{}); AsError(err).Status != 413 {
		t.Errorf("a body over an outer limit: got %v, want 413", err)
	}
}

func TestParamsManyOthers(t *testing.T) {
	var p params
	for i := range 3 * manyOthers {
		if p.add(fmt.Sprint("x", i), "v") {
			t.Fatalf("x%d: got repeated, want new", i)
		}
	}
	for _, name := range []string{"x0", "x20", fmt.Sprint("x", 3*manyOthers-1)} {
		if !p.add(name, "v") {
			t.Errorf("%s: got new, want repeated", name)
		}
	}
	if p.add("scope", "") || !p.add("scope", "a") || !p.has(pScope) || p.val[pScope] != "" {
		t.Errorf("scope: got %q given %v, want the first, empty value kept", p.val[pScope], p.has(pScope))
	}
}

// refParseTokenRequest is ParseTokenRequest as it was over url.Values,
// with the names of the parameters it found repeated (it named any one).
func refParseTokenRequest(w http.ResponseWriter, r *http.Request, opts ParseOptions) (TokenRequest, []string, error) {
	var req TokenRequest
	params, err := refReadParams(w, r)
	if err != nil {
		return req, nil, err
	}
	if r.URL.RawQuery != "" {
		query, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return req, nil, ErrInvalidRequest("The query string is malformed.")
		}
		if !opts.AllowQuery {
			if query.Has("client_secret") {
				return req, nil, ErrInvalidRequest("client_secret must not be sent in the URL; send it in the body or an Authorization header.")
			}
		} else {
			for k, vs := range query {
				params[k] = append(params[k], vs...)
			}
		}
	}
	var repeated []string
	for k, vs := range params {
		if len(vs) > 1 {
			repeated = append(repeated, k)
		}
	}
	if len(repeated) > 0 {
		return req, repeated, errRepeated(repeated[0])
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
		return req, nil, ErrInvalidDPoPProof("Send one DPoP proof, not several.", nil)
	}
	return req, nil, req.applyBasic(r.Header.Get("Authorization"))
}

func refReadParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
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
		return refParseJSONParams(body)
	default:
		return nil, ErrInvalidRequest("Content-Type %q is not supported; use application/x-www-form-urlencoded or application/json.", truncate(mt))
	}
}

func refParseJSONParams(body []byte) (url.Values, error) {
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
			return nil, errRepeated(key)
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
