package oauth_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/oauth"
)

const (
	formCT = "application/x-www-form-urlencoded"
	jsonCT = "application/json"
	// testSecret is the secret every request below sends; no error may echo it.
	testSecret = "gatehouse_s3cr3tV4lue-xyz"
)

// tokenReq describes one request to a token endpoint.
type tokenReq struct {
	target      string // default /oauth/token
	contentType string
	body        string
	auth        string
}

func (tr tokenReq) build() *http.Request {
	target := tr.target
	if target == "" {
		target = "/oauth/token"
	}
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(tr.body))
	if tr.contentType != "" {
		r.Header.Set("Content-Type", tr.contentType)
	}
	if tr.auth != "" {
		r.Header.Set("Authorization", tr.auth)
	}
	return r
}

// parse runs ParseTokenRequest and returns its error as an *oauth.Error.
func parse(t *testing.T, tr tokenReq, opts oauth.ParseOptions) (oauth.TokenRequest, *oauth.Error) {
	t.Helper()
	got, err := oauth.ParseTokenRequest(httptest.NewRecorder(), tr.build(), opts)
	if err == nil {
		return got, nil
	}
	var oe *oauth.Error
	if !errors.As(err, &oe) {
		t.Fatalf("error: got %T %v, want *oauth.Error", err, err)
	}
	if strings.Contains(oe.Description, testSecret) || strings.Contains(oe.Error(), testSecret) {
		t.Errorf("error %q echoes the client secret", oe.Error())
	}
	return got, oe
}

// basic builds an Authorization header from already form-encoded id and secret.
func basic(encID, encSecret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(encID+":"+encSecret))
}

func TestParseTokenRequestOK(t *testing.T) {
	fullForm := "grant_type=client_credentials&client_id=abc&client_secret=" + testSecret +
		"&audience=https%3A%2F%2Fapi.example.io&scope=read+write"
	full := oauth.TokenRequest{
		GrantType: "client_credentials", ClientID: "abc", ClientSecret: testSecret,
		Audience: "https://api.example.io", Scope: "read write", ScopeGiven: true,
	}
	tests := []struct {
		name string
		req  tokenReq
		opts oauth.ParseOptions
		want oauth.TokenRequest
	}{
		{"form", tokenReq{contentType: formCT, body: fullForm}, oauth.ParseOptions{}, full},
		{"form with charset", tokenReq{contentType: formCT + "; charset=UTF-8", body: fullForm}, oauth.ParseOptions{}, full},
		{"form content type upper case", tokenReq{contentType: "Application/X-WWW-Form-Urlencoded", body: fullForm}, oauth.ParseOptions{}, full},
		{
			"curl --data-urlencode",
			tokenReq{contentType: formCT, body: "client_id=abc&client_secret=" + testSecret + "&grant_type=client_credentials&audience=https%3A%2F%2Fapi.example.io"},
			oauth.ParseOptions{},
			oauth.TokenRequest{GrantType: "client_credentials", ClientID: "abc", ClientSecret: testSecret, Audience: "https://api.example.io"},
		},
		{
			"curl --data unencoded",
			tokenReq{contentType: formCT, body: "audience=https://api.example.io&grant_type=client_credentials&client_id=abc&client_secret=" + testSecret},
			oauth.ParseOptions{},
			oauth.TokenRequest{GrantType: "client_credentials", ClientID: "abc", ClientSecret: testSecret, Audience: "https://api.example.io"},
		},
		{
			"curl --data template audience",
			tokenReq{contentType: formCT, body: "audience=https://delivery.example.io/acme&grant_type=client_credentials"},
			oauth.ParseOptions{},
			oauth.TokenRequest{GrantType: "client_credentials", Audience: "https://delivery.example.io/acme"},
		},
		{
			"json",
			tokenReq{contentType: jsonCT, body: `{"grant_type":"client_credentials","client_id":"abc","client_secret":"` + testSecret + `","audience":"https://api.example.io","scope":"read write"}`},
			oauth.ParseOptions{},
			full,
		},
		{
			"json with charset and whitespace",
			tokenReq{contentType: jsonCT + "; charset=utf-8", body: " {\n \"resource\" : \"https://api.example.io\" } \n"},
			oauth.ParseOptions{},
			oauth.TokenRequest{Resource: "https://api.example.io"},
		},
		{"json empty object", tokenReq{contentType: jsonCT, body: `{}`}, oauth.ParseOptions{}, oauth.TokenRequest{}},
		{"empty body without content type", tokenReq{}, oauth.ParseOptions{}, oauth.TokenRequest{}},
		{"blank body without content type", tokenReq{body: " \r\n"}, oauth.ParseOptions{}, oauth.TokenRequest{}},
		{"empty body with unknown content type", tokenReq{contentType: "text/plain"}, oauth.ParseOptions{}, oauth.TokenRequest{}},
		{
			"per-service query parameters",
			tokenReq{target: "/streaming-property/v1/oauth2/token?grant_type=client_credentials&client_id=5934de97c95e1ced&client_secret=" + testSecret},
			oauth.ParseOptions{AllowQuery: true},
			oauth.TokenRequest{GrantType: "client_credentials", ClientID: "5934de97c95e1ced", ClientSecret: testSecret},
		},
		{
			"per-service query and body merged",
			tokenReq{target: "/svc/v1/oauth2/token?client_id=abc", contentType: formCT, body: "grant_type=client_credentials&client_secret=" + testSecret},
			oauth.ParseOptions{AllowQuery: true},
			oauth.TokenRequest{GrantType: "client_credentials", ClientID: "abc", ClientSecret: testSecret},
		},
		{
			"query ignored without AllowQuery",
			tokenReq{target: "/oauth/token?client_id=fromurl&scope=x", contentType: formCT, body: "grant_type=client_credentials"},
			oauth.ParseOptions{},
			oauth.TokenRequest{GrantType: "client_credentials"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(t, tt.req, tt.opts)
			if err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseTokenRequestErrors(t *testing.T) {
	tests := []struct {
		name       string
		req        tokenReq
		opts       oauth.ParseOptions
		wantStatus int
		wantCode   string
	}{
		{"body without content type", tokenReq{body: "grant_type=client_credentials&client_secret=" + testSecret}, oauth.ParseOptions{}, 400, "invalid_request"},
		{"unknown content type", tokenReq{contentType: "text/plain", body: "client_secret=" + testSecret}, oauth.ParseOptions{}, 400, "invalid_request"},
		{"multipart", tokenReq{contentType: "multipart/form-data; boundary=x", body: "--x--"}, oauth.ParseOptions{}, 400, "invalid_request"},
		{"malformed content type", tokenReq{contentType: "application/json; ===", body: `{}`}, oauth.ParseOptions{}, 400, "invalid_request"},
		{"malformed form", tokenReq{contentType: formCT, body: "client_secret=" + testSecret + "&a=%zz"}, oauth.ParseOptions{}, 400, "invalid_request"},
		{"form semicolon separator", tokenReq{contentType: formCT, body: "a=b;client_secret=" + testSecret}, oauth.ParseOptions{}, 400, "invalid_request"},
		{"repeated form parameter", tokenReq{contentType: formCT, body: "client_secret=" + testSecret + "&client_secret=" + testSecret}, oauth.ParseOptions{}, 400, "invalid_request"},
		{"repeated scope", tokenReq{contentType: formCT, body: "scope=a&scope=b"}, oauth.ParseOptions{}, 400, "invalid_request"},
		{"malformed json", tokenReq{contentType: jsonCT, body: `{"client_secret":"` + testSecret + `"`}, oauth.ParseOptions{}, 400, "invalid_request"},
		{"json not an object", tokenReq{contentType: jsonCT, body: `["client_secret"]`}, oauth.ParseOptions{}, 400, "invalid_request"},
		{"json bare string", tokenReq{contentType: jsonCT, body: `"` + testSecret + `"`}, oauth.ParseOptions{}, 400, "invalid_request"},
		{"json trailing comma", tokenReq{contentType: jsonCT, body: `{"a":"b",}`}, oauth.ParseOptions{}, 400, "invalid_request"},
		{"json number value", tokenReq{contentType: jsonCT, body: `{"client_id":12345}`}, oauth.ParseOptions{}, 400, "invalid_request"},
		{"json object value", tokenReq{contentType: jsonCT, body: `{"client_secret":{"v":"` + testSecret + `"}}`}, oauth.ParseOptions{}, 400, "invalid_request"},
		{"json array value", tokenReq{contentType: jsonCT, body: `{"scope":["a","b"]}`}, oauth.ParseOptions{}, 400, "invalid_request"},
		{"json null value", tokenReq{contentType: jsonCT, body: `{"scope":null}`}, oauth.ParseOptions{}, 400, "invalid_request"},
		{"json bool value", tokenReq{contentType: jsonCT, body: `{"scope":true}`}, oauth.ParseOptions{}, 400, "invalid_request"},
		{"json duplicate key", tokenReq{contentType: jsonCT, body: `{"client_secret":"` + testSecret + `","client_secret":"other"}`}, oauth.ParseOptions{}, 400, "invalid_request"},
		{"json trailing object", tokenReq{contentType: jsonCT, body: `{"a":"b"}{"c":"d"}`}, oauth.ParseOptions{}, 400, "invalid_request"},
		{"json trailing garbage", tokenReq{contentType: jsonCT, body: `{"a":"b"} x`}, oauth.ParseOptions{}, 400, "invalid_request"},
		{"oversized body", tokenReq{contentType: formCT, body: "scope=" + strings.Repeat("a", oauth.MaxBodyBytes)}, oauth.ParseOptions{}, 413, "invalid_request"},
		{"oversized body without content type", tokenReq{body: strings.Repeat(" ", oauth.MaxBodyBytes+1)}, oauth.ParseOptions{}, 413, "invalid_request"},
		{
			"client_secret in query of /oauth/token",
			tokenReq{target: "/oauth/token?client_secret=" + testSecret, contentType: formCT, body: "grant_type=client_credentials&client_id=abc"},
			oauth.ParseOptions{}, 400, "invalid_request",
		},
		{
			"client_secret in query without body",
			tokenReq{target: "/oauth/token?client_id=abc&client_secret=" + testSecret},
			oauth.ParseOptions{}, 400, "invalid_request",
		},
		{
			"malformed query",
			tokenReq{target: "/oauth/token?a=%zz", contentType: formCT, body: "grant_type=client_credentials"},
			oauth.ParseOptions{}, 400, "invalid_request",
		},
		{
			"repeated across query and body",
			tokenReq{target: "/svc/v1/oauth2/token?client_id=abc", contentType: formCT, body: "client_id=abc&client_secret=" + testSecret},
			oauth.ParseOptions{AllowQuery: true}, 400, "invalid_request",
		},
		{
			"repeated in query",
			tokenReq{target: "/svc/v1/oauth2/token?client_secret=" + testSecret + "&client_secret=x"},
			oauth.ParseOptions{AllowQuery: true}, 400, "invalid_request",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.req, tt.opts)
			if err == nil {
				t.Fatalf("got nil error, want %d %s", tt.wantStatus, tt.wantCode)
			}
			if err.Status != tt.wantStatus || err.Code != tt.wantCode {
				t.Errorf("got %d %s (%s), want %d %s", err.Status, err.Code, err.Description, tt.wantStatus, tt.wantCode)
			}
			if err.Description == "" {
				t.Errorf("got empty description, want one")
			}
			if err.Challenge != "" {
				t.Errorf("Challenge: got %q, want none", err.Challenge)
			}
		})
	}
}

func TestParseTokenRequestBasic(t *testing.T) {
	tests := []struct {
		name          string
		auth          string
		body          string
		wantID        string
		wantSecret    string
		wantStatus    int // 0: success
		wantChallenge bool
	}{
		{name: "valid", auth: basic("abc", testSecret), body: "grant_type=client_credentials", wantID: "abc", wantSecret: testSecret},
		{name: "scheme case-insensitive", auth: "basic " + base64.StdEncoding.EncodeToString([]byte("abc:"+testSecret)), wantID: "abc", wantSecret: testSecret},
		{name: "extra spaces", auth: "Basic   " + base64.StdEncoding.EncodeToString([]byte("abc:"+testSecret)) + " ", wantID: "abc", wantSecret: testSecret},
		{name: "encoded colon in secret", auth: basic("abc", "pa%3Ass"), wantID: "abc", wantSecret: "pa:ss"},
		{name: "plus is a space", auth: basic("abc", "pa+ss"), wantID: "abc", wantSecret: "pa ss"},
		{name: "encoded plus", auth: basic("abc", "pa%2Bss"), wantID: "abc", wantSecret: "pa+ss"},
		{name: "encoded id", auth: basic("a%2Fb%3Ac", "x"), wantID: "a/b:c", wantSecret: "x"},
		{name: "colon after the first is in the secret", auth: basic("abc", "a:b"), wantID: "abc", wantSecret: "a:b"},
		{name: "query-escaped secret round trip", auth: basic(url.QueryEscape("id 1"), url.QueryEscape("s+/=:% "+testSecret)), wantID: "id 1", wantSecret: "s+/=:% " + testSecret},
		{name: "matching body client_id", auth: basic("abc", testSecret), body: "client_id=abc", wantID: "abc", wantSecret: testSecret},
		{name: "bearer is not client auth", auth: "Bearer xyz", body: "client_id=abc&client_secret=" + testSecret, wantID: "abc", wantSecret: testSecret},
		{name: "malformed base64", auth: "Basic %%%not-base64" + testSecret, wantStatus: 401, wantChallenge: true},
		{name: "no colon", auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("abc"+testSecret)), wantStatus: 401, wantChallenge: true},
		{name: "empty credentials", auth: "Basic", wantStatus: 401, wantChallenge: true},
		{name: "empty id", auth: basic("", testSecret), wantStatus: 401, wantChallenge: true},
		{name: "bad escape in id", auth: basic("a%zz", testSecret), wantStatus: 401, wantChallenge: true},
		{name: "bad escape in secret", auth: basic("abc", testSecret+"%g1"), wantStatus: 401, wantChallenge: true},
		{name: "basic and body secret", auth: basic("abc", testSecret), body: "client_secret=" + testSecret, wantStatus: 400},
		{name: "basic and different body secret", auth: basic("abc", testSecret), body: "client_id=abc&client_secret=other-secret", wantStatus: 400},
		{name: "basic and different body client_id", auth: basic("abc", testSecret), body: "client_id=xyz", wantStatus: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(t, tokenReq{contentType: formCT, body: tt.body, auth: tt.auth}, oauth.ParseOptions{})
			if tt.wantStatus != 0 {
				if err == nil {
					t.Fatalf("got %+v, want status %d", got, tt.wantStatus)
				}
				wantCode := "invalid_request"
				if tt.wantStatus == 401 {
					wantCode = "invalid_client"
				}
				if err.Status != tt.wantStatus || err.Code != wantCode {
					t.Errorf("got %d %s, want %d %s", err.Status, err.Code, tt.wantStatus, wantCode)
				}
				if hasBasic := strings.HasPrefix(err.Challenge, "Basic"); hasBasic != tt.wantChallenge {
					t.Errorf("Challenge: got %q, want Basic challenge %v", err.Challenge, tt.wantChallenge)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			wantBasic := strings.HasPrefix(strings.ToLower(tt.auth), "basic")
			if got.ClientID != tt.wantID || got.ClientSecret != tt.wantSecret || got.Basic != wantBasic {
				t.Errorf("got id %q secret %q basic %v, want %q %q %v", got.ClientID, got.ClientSecret, got.Basic, tt.wantID, tt.wantSecret, wantBasic)
			}
		})
	}
}

func TestParseTokenRequestScopeGiven(t *testing.T) {
	tests := []struct {
		name      string
		ct, body  string
		wantScope string
		wantGiven bool
	}{
		{"form absent", formCT, "grant_type=client_credentials", "", false},
		{"form empty", formCT, "grant_type=client_credentials&scope=", "", true},
		{"form bare key", formCT, "scope", "", true},
		{"form two scopes", formCT, "scope=a%20b", "a b", true},
		{"json absent", jsonCT, `{"grant_type":"client_credentials"}`, "", false},
		{"json empty", jsonCT, `{"scope":""}`, "", true},
		{"json one scope", jsonCT, `{"scope":"read"}`, "read", true},
		{"empty body", "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(t, tokenReq{contentType: tt.ct, body: tt.body}, oauth.ParseOptions{})
			if err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			if got.Scope != tt.wantScope || got.ScopeGiven != tt.wantGiven {
				t.Errorf("got scope %q given %v, want %q %v", got.Scope, got.ScopeGiven, tt.wantScope, tt.wantGiven)
			}
		})
	}
}

func TestParseTokenRequestScopeGivenFromQuery(t *testing.T) {
	got, err := parse(t, tokenReq{target: "/svc/v1/oauth2/token?scope="}, oauth.ParseOptions{AllowQuery: true})
	if err != nil {
		t.Fatalf("got error %v, want nil", err)
	}
	if !got.ScopeGiven || got.Scope != "" {
		t.Errorf("got scope %q given %v, want \"\" true", got.Scope, got.ScopeGiven)
	}
}
