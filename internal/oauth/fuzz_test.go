package oauth_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/oauth"
)

// fuzzRequest builds a token request without httptest.NewRequest's
// validation, so any query string and header value reach the parser.
func fuzzRequest(contentType string, body []byte, authorization, rawQuery string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/oauth/token", bytes.NewReader(body))
	r.URL.RawQuery = rawQuery
	if contentType != "" {
		r.Header["Content-Type"] = []string{contentType}
	}
	if authorization != "" {
		r.Header["Authorization"] = []string{authorization}
	}
	return r
}

func FuzzParseTokenRequest(f *testing.F) {
	b64 := base64.StdEncoding.EncodeToString
	// The shapes of the documents.
	f.Add(formCT, []byte("client_id=abc&client_secret=s&grant_type=client_credentials&audience=https%3A%2F%2Fapi.example.io"), "", "")
	f.Add(formCT, []byte("audience=https://api.example.io&grant_type=client_credentials&client_id=abc&client_secret=s"), "", "")
	f.Add(formCT+"; charset=UTF-8", []byte("grant_type=client_credentials&scope=a+b"), b64([]byte("abc:s")), "")
	f.Add(jsonCT, []byte(`{"grant_type":"client_credentials","client_id":"abc","client_secret":"s","audience":"https://api.example.io"}`), "", "")
	f.Add("", []byte(nil), "", "grant_type=client_credentials&client_id=5934de97c95e1ced&client_secret=2l9dr0jkink11ad49hg93it52d")
	f.Add(formCT, []byte("grant_type=client_credentials"), "Basic "+b64([]byte("abc:pa%3Ass+x")), "")
	f.Add(formCT, []byte("client_id=abc"), "Basic "+b64([]byte("abc:s")), "")
	// Hostile ones.
	f.Add(formCT, []byte("a=%zz&b=;c"), "Basic !!!", "a=%zz")
	f.Add(formCT, []byte("scope=a&scope=b&client_id=x&client_id=y"), "Basic "+b64([]byte("nocolon")), "scope=c")
	f.Add(jsonCT, []byte(`{"a":"b","a":"c"}`), "", "")
	f.Add(jsonCT, []byte(`{"a":1,"b":{"c":[null]}}`), "", "")
	f.Add(jsonCT, []byte(`{"a":"b"}{"a":"b"}`), "", "")
	f.Add(jsonCT, []byte(`{"a":"\ud800\u0000\"","b":"\xff"}`), "basic "+b64([]byte(":")), "")
	f.Add(jsonCT, []byte(`[[[[[[[[[[{}]]]]]]]]]]`), "Bearer x", "client_secret=s")
	f.Add(jsonCT, []byte(`{"a":1e999999}`), "", "")
	f.Add("text/plain; charset=\"", []byte("x"), "Basic", "")
	f.Add("application/json;;;", []byte("{}"), "Basic "+b64([]byte("%:%")), "%")
	f.Add("", []byte(" \t\r\n"), "Basic "+b64([]byte("a%2:b")), ";;;")
	f.Add(formCT, bytes.Repeat([]byte("a=b&"), oauth.MaxBodyBytes/4+1), "", "")

	f.Fuzz(func(t *testing.T, contentType string, body []byte, authorization, rawQuery string) {
		for _, opts := range []oauth.ParseOptions{{}, {AllowQuery: true}} {
			got, err := oauth.ParseTokenRequest(httptest.NewRecorder(), fuzzRequest(contentType, body, authorization, rawQuery), opts)
			again, err2 := oauth.ParseTokenRequest(httptest.NewRecorder(), fuzzRequest(contentType, body, authorization, rawQuery), opts)
			if err != nil {
				var oe *oauth.Error
				if !errors.As(err, &oe) {
					t.Fatalf("error: got %T %v, want *oauth.Error", err, err)
				}
				if oe.Status < 400 || oe.Status > 499 {
					t.Fatalf("status: got %d (%v), want 4xx", oe.Status, oe)
				}
				if oe.Code == "" || oe.Description == "" {
					t.Fatalf("got error %+v, want a code and a description", oe)
				}
				var oe2 *oauth.Error
				if !errors.As(err2, &oe2) || oe2.Status != oe.Status || oe2.Code != oe.Code {
					t.Fatalf("second parse: got %v, want %v", err2, err)
				}
				continue
			}
			if err2 != nil || !reflect.DeepEqual(got, again) {
				t.Fatalf("second parse: got %+v, %v; want %+v, nil", again, err2, got)
			}
			if got.Basic && (got.ClientID == "" || !strings.HasPrefix(strings.ToLower(strings.TrimSpace(authorization)), "basic")) {
				t.Fatalf("got Basic with client_id %q from Authorization %q", got.ClientID, authorization)
			}
			if got.Scope != "" && !got.ScopeGiven {
				t.Fatalf("got scope %q with ScopeGiven false", got.Scope)
			}
		}
	})
}
