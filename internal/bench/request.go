package bench

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// AuthMethod is how the load generator presents the client's credentials.
type AuthMethod string

const (
	// AuthPost sends client_id and client_secret in the form body
	// (client_secret_post), the default.
	AuthPost AuthMethod = "post"
	// AuthBasic sends them in an HTTP Basic header (client_secret_basic),
	// form-encoded first as RFC 6749 §2.3.1 requires.
	AuthBasic AuthMethod = "basic"
	// AuthJSON sends every parameter, credentials included, as an
	// application/json body, as some of the documents' clients do.
	AuthJSON AuthMethod = "json"
)

// tokenRequest is the one token request a run sends over and over: built
// once, so the loop spends nothing on encoding.
type tokenRequest struct {
	url           string
	body          []byte
	contentType   string
	authorization string
}

// newTokenRequest builds the client credentials request of o.
func newTokenRequest(o TokenOptions) (tokenRequest, error) {
	params := [][2]string{{"grant_type", "client_credentials"}}
	if o.Audience != "" {
		params = append(params, [2]string{"audience", o.Audience})
	}
	if o.Scope != "" {
		params = append(params, [2]string{"scope", o.Scope})
	}
	creds := [][2]string{{"client_id", o.ClientID}, {"client_secret", o.ClientSecret}}
	r := tokenRequest{url: strings.TrimRight(o.URL, "/") + "/oauth/token"}
	switch o.Auth {
	case AuthPost, "":
		r.body, r.contentType = formBody(append(params, creds...)), "application/x-www-form-urlencoded"
	case AuthBasic:
		r.body, r.contentType = formBody(params), "application/x-www-form-urlencoded"
		r.authorization = basicAuthorization(o.ClientID, o.ClientSecret)
	case AuthJSON:
		obj := map[string]string{}
		for _, p := range append(params, creds...) {
			obj[p[0]] = p[1]
		}
		body, err := json.Marshal(obj)
		if err != nil {
			return tokenRequest{}, err
		}
		r.body, r.contentType = body, "application/json"
	default:
		return tokenRequest{}, fmt.Errorf("unknown client authentication %q (want post, basic or json)", o.Auth)
	}
	return r, nil
}

func formBody(params [][2]string) []byte {
	v := url.Values{}
	for _, p := range params {
		v.Set(p[0], p[1])
	}
	return []byte(v.Encode())
}

// new returns a fresh *http.Request for one send.
func (r tokenRequest) new(ctx context.Context) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(r.body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", r.contentType)
	req.Header.Set("Accept", "application/json")
	if r.authorization != "" {
		req.Header.Set("Authorization", r.authorization)
	}
	return req, nil
}

// basicAuthorization returns the client_secret_basic header value: RFC 6749
// §2.3.1 has id and secret form-encoded before they are joined with ':' and
// base64-encoded, which (*http.Request).SetBasicAuth does not do.
func basicAuthorization(clientID, secret string) string {
	pair := url.QueryEscape(clientID) + ":" + url.QueryEscape(secret)
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(pair))
}
