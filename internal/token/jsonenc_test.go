package token

import (
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store"
)

func TestAppendClaimsMatchesEncodingJSON(t *testing.T) {
	full := Claims{Issuer: "https://auth.example.io", Subject: "abc@clients", Audience: "https://api.example.io",
		IssuedAt: 1700000000, Expiry: 1700000900, JTI: "j<1>", ClientID: "abc", AZP: "abc", Scope: "read write",
		GrantType: "client-credentials", Tenant: "acme", Environment: "qa", Service: "streaming", APIKey: "ak"}
	tests := []struct {
		name string
		c    Claims
	}{
		{"every claim", full},
		{"no tenant, environment, service or api_key", Claims{Issuer: "i", Subject: "s", Audience: "a", JTI: "j", ClientID: "c", AZP: "c", GrantType: "g"}},
		{"negative and zero times", Claims{IssuedAt: -1}},
		{"bound, federated, delegated", Claims{Issuer: "i", Cnf: &store.Confirmation{JKT: "t<h>"},
			Ext: &External{Issuer: "https://x", Subject: "repo:a/b", Trust: "acme/gh", Rule: "r"},
			Act: map[string]any{"sub": "c@clients", "act": map[string]any{"sub": "d@clients"}}}},
		{"empty act", Claims{Act: map[string]any{}}},
	}
	for _, tt := range tests {
		want, _ := json.Marshal(tt.c)
		if got, _ := appendClaims(nil, &tt.c); string(got) != string(want) {
			t.Errorf("%s: got %s, want %s", tt.name, got, want)
		}
	}
}

// jsonStrings are strings that JSON escapes, or that encoding/json changes
// (jsonw's tests check its escaping of them alone).
var jsonStrings = []string{
	"", "plain", `quote " and \ backslash`, "tab\tnewline\nreturn\r", "\x00\x01\x1f\x7f",
	"<script>&amp;</script>", "line\u2028para\u2029", "ünïcödé ✓ 𝄞", "bad \xff utf-8 \xc3", "https://api.example.io/{tenant}",
}

// A client's own subject is written as encoding/json writes ClientID +
// "@clients", whatever the id holds.
func TestAppendClaimsOwnSubject(t *testing.T) {
	for _, id := range jsonStrings {
		c := Claims{Issuer: "i", ClientID: id, AZP: id, ownSubject: true}
		want, _ := json.Marshal(Claims{Issuer: "i", Subject: id + "@clients", ClientID: id, AZP: id})
		if got, _ := appendClaims(nil, &c); string(got) != string(want) {
			t.Errorf("client %q: got %s, want %s", id, got, want)
		}
	}
}

func TestWriteResponse(t *testing.T) {
	for _, resp := range []Response{
		{AccessToken: "a.b.c", Scope: "read", ExpiresIn: 900, TokenType: "Bearer"},
		{AccessToken: "a.b.c", Scope: "read", ExpiresIn: 900, TokenType: "Bearer", IssuedTokenType: "urn:ietf:params:oauth:token-type:access_token"},
		{AccessToken: "a.b.c", Scope: "read", ExpiresIn: 900, TokenType: "Bearer"}, // a Content-Length made before
		{AccessToken: strings.Repeat("a", len(contentLengths)), Scope: "read", ExpiresIn: 900, TokenType: "Bearer"},
	} {
		testWriteResponse(t, resp)
	}
}

func testWriteResponse(t *testing.T, resp Response) {
	w := httptest.NewRecorder()
	writeResponse(w, resp)
	want, _ := json.Marshal(resp)
	if got := w.Body.String(); got != string(want)+"\n" {
		t.Errorf("body: got %s, want %s", got, want)
	}
	for k, v := range map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache", "Content-Length": strconv.Itoa(len(want) + 1)} {
		if got := w.Header().Get(k); got != v {
			t.Errorf("%s: got %q, want %q", k, got, v)
		}
	}
	if w.Code != 200 {
		t.Errorf("status: got %d, want 200", w.Code)
	}
}
