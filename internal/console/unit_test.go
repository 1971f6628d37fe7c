package console

import (
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

func TestShellQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "'plain'"},
		{"it's", `'it'\''s'`},
		{"$HOME `x` \"y\"", "'$HOME `x` \"y\"'"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := shellQuote(tc.in); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestSplitGrant(t *testing.T) {
	for _, tc := range []struct {
		in, aud string
		scopes  []string
	}{
		{"https://api.example.io orders:read", "https://api.example.io", []string{"orders:read"}},
		{"https://d.example.io/{tenant} delivery:read", "https://d.example.io/{tenant}", []string{"delivery:read"}},
		{"urn:x:y ", "urn:x:y", []string{}},
		{"urn:x:y", "urn:x:y", []string{}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			aud, scopes := splitGrant(tc.in)
			if aud != tc.aud || !slices.Equal(scopes, tc.scopes) {
				t.Errorf("got %q %q, want %q %q", aud, scopes, tc.aud, tc.scopes)
			}
		})
	}
}

func TestParseScopes(t *testing.T) {
	got := parseScopes("orders:read  Read   orders \r\n\n  orders:write\nx\ty")
	want := []store.Scope{{Name: "orders:read", Description: "Read   orders"}, {Name: "orders:write"}, {Name: "x\ty"}}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFieldOf(t *testing.T) {
	for _, tc := range []struct{ msg, want string }{
		{`token_ttl must be between 1m and 720h, not 10s`, "ttl"},
		{`scope "a b" is not a valid scope name`, "scopes"},
		{`audience "x" is not an absolute URI`, "audience"},
		{`service "admin" is not a valid service name (...; not one of oauth, admin)`, "service"},
		{`the built-in API urn:gatehouse:admin can change only its name`, ""},
	} {
		t.Run(tc.msg, func(t *testing.T) {
			if got := fieldOf(tc.msg, apiWords); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	for _, tc := range []struct{ msg, want string }{
		{"an environment needs a tenant", "environment"},
		{`jwks_uri "http://x" must be an https URL`, "jwks_uri"},
		{`jwks: key "k" holds private key material ("d")`, "jwks"},
		{"jwks or jwks_uri is required for a private_key_jwt client", "jwks"},
		{"tls_subject_kind is required for a tls_client_auth client", "tls_subject_kind"},
		{`tls_subject "a..b" is not a valid DNS name (SAN)`, "tls_subject"},
		{`auth_method "magic" is not one of client_secret, private_key_jwt`, "auth_method"},
	} {
		if got := fieldOf(tc.msg, clientWords); got != tc.want {
			t.Errorf("fieldOf(%q, clientWords): got %q, want %q", tc.msg, got, tc.want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/console/keys", "/console/keys"},
		{"/console/audit?since=1h", "/console/audit?since=1h"},
		{"", "/console/"},
		{"https://evil.example/console/", "/console/"},
		{"//evil.example/console/", "/console/"},
		{"/console/\\evil", "/console/"},
		{"/admin/v1/clients", "/console/"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := safeNext(tc.in); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{{24 * time.Hour, "24h"}, {15 * time.Minute, "15m"}, {90 * time.Minute, "1h30m"}, {45 * time.Second, "45s"}, {0, "-"}} {
		if got := formatDuration(tc.in); got != tc.want {
			t.Errorf("formatDuration(%s): got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNewNeedsAKey(t *testing.T) {
	if _, err := New(Config{SessionKey: []byte("short")}, nil, nil, nil, nil, nil, nil, nil, nil); err == nil {
		t.Errorf("New with a short session key: got nil error, want one")
	}
}
