package server

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/token"
)

var _ audit.DetailAppender = issuance{}

// TestIssuanceJSON: the token.issued detail writes what json.Marshal
// writes, with every field set, none, and awkward strings.
func TestIssuanceJSON(t *testing.T) {
	full := issuance{Audience: "https://api.example.io", Scope: "read write", JTI: "j1", Expires: 1_800_000_900,
		Service: "streaming-property", Source: "203.0.113.7", Reused: true, Grant: "urn:ietf:params:oauth:grant-type:token-exchange",
		External: &token.External{Issuer: "https://token.actions.githubusercontent.com", Subject: "repo:acme/deploy:ref:refs/heads/main", Trust: "acme/gh", Rule: "deploy"},
		Act:      map[string]any{"sub": "c2@clients", "act": map[string]any{"sub": "c3@clients", "n": 1.5}}, Subject: "ext@clients"}
	// A field added to issuance must be written by AppendJSON too: the
	// full case sets every one, so a missing one shows below.
	v := reflect.ValueOf(full)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Fatalf("the full case leaves %s unset", v.Type().Field(i).Name)
		}
	}
	awkward := `<a href="x">&amp;</a> \ ünï ` + "\u2028\u2029\x00\x1f\xff"
	tests := []struct {
		name string
		d    issuance
	}{
		{"every field", full},
		{"none", issuance{}},
		{"client credentials", issuance{Audience: "https://es256.example.io", Scope: "read", JTI: "Zx3k", Expires: 1_800_000_900, Source: "127.0.0.1", Grant: "client-credentials"}},
		{"negative exp, empty act", issuance{Expires: -1, Act: map[string]any{}}},
		{"awkward strings", issuance{Audience: awkward, Scope: awkward, JTI: awkward, Service: awkward, Source: awkward, Grant: awkward,
			External: &token.External{Issuer: awkward, Subject: awkward, Trust: awkward, Rule: awkward}, Act: map[string]any{awkward: awkward}, Subject: awkward}},
		{"empty external", issuance{External: &token.External{}}},
	}
	for _, tt := range tests {
		want, err := json.Marshal(tt.d)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tt.d.AppendJSON([]byte("x"))
		if err != nil || string(got) != "x"+string(want) {
			t.Errorf("%s: got %s, %v\nwant x%s", tt.name, got, err, want)
		}
	}
	// An act that does not encode fails both ways (Record stores {}).
	bad := issuance{Act: map[string]any{"f": func() {}}}
	if _, err := json.Marshal(bad); err == nil {
		t.Fatal("json.Marshal of a func: got nil error")
	}
	if _, err := bad.AppendJSON(nil); err == nil {
		t.Errorf("AppendJSON with an act that does not encode: got nil error, want one")
	}
}
