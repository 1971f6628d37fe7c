package oauth

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkParseTokenRequest measures parsing the documents' request shapes.
func BenchmarkParseTokenRequest(b *testing.B) {
	shapes := []struct{ name, ctype, body, auth string }{
		{"form", "application/x-www-form-urlencoded",
			"client_id=dETFbO5E6SOq9BnJ5VAUSBWq&client_secret=gatehouse_WD-yzWHQvhB28GRZWzu-egFFEyRNwKx63KADpTLH63g&grant_type=client_credentials&audience=https%3A%2F%2Fapi.example.io", ""},
		{"json", "application/json",
			`{"client_id":"dETFbO5E6SOq9BnJ5VAUSBWq","client_secret":"gatehouse_WD-yzWHQvhB28GRZWzu-egFFEyRNwKx63KADpTLH63g","grant_type":"client_credentials","audience":"https://api.example.io"}`, ""},
		{"basic", "application/x-www-form-urlencoded", "grant_type=client_credentials&audience=https%3A%2F%2Fapi.example.io",
			"Basic ZEVURmJPNUU2U09xOUJuSjVWQVVTQldxOmdhdGVob3VzZV9XRC15eldIUXZoQjI4R1JaV3p1LWVnRkZFeVJOd0t4NjNLQURwVExINjNn"},
	}
	for _, s := range shapes {
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(s.body))
				r.Header.Set("Content-Type", s.ctype)
				if s.auth != "" {
					r.Header.Set("Authorization", s.auth)
				}
				req, err := ParseTokenRequest(nil, r, ParseOptions{})
				if err != nil || req.ClientID == "" {
					b.Fatalf("got %+v, %v", req, err)
				}
			}
		})
	}
}

// rewindBody is a request body that can be read again, so that
// BenchmarkParseTokenRequestOnly measures the parser alone.
type rewindBody struct {
	strings.Reader
	body string
}

func (b *rewindBody) Close() error { return nil }

// BenchmarkParseTokenRequestOnly measures the shapes of
// BenchmarkParseTokenRequest without building a request each time.
func BenchmarkParseTokenRequestOnly(b *testing.B) {
	shapes := []struct{ name, target, ctype, body, auth string }{
		{"form", "/oauth/token", "application/x-www-form-urlencoded",
			"client_id=dETFbO5E6SOq9BnJ5VAUSBWq&client_secret=gatehouse_WD-yzWHQvhB28GRZWzu-egFFEyRNwKx63KADpTLH63g&grant_type=client_credentials&audience=https%3A%2F%2Fapi.example.io", ""},
		{"json", "/oauth/token", "application/json",
			`{"client_id":"dETFbO5E6SOq9BnJ5VAUSBWq","client_secret":"gatehouse_WD-yzWHQvhB28GRZWzu-egFFEyRNwKx63KADpTLH63g","grant_type":"client_credentials","audience":"https://api.example.io"}`, ""},
		{"basic", "/oauth/token", "application/x-www-form-urlencoded", "grant_type=client_credentials&audience=https%3A%2F%2Fapi.example.io",
			"Basic ZEVURmJPNUU2U09xOUJuSjVWQVVTQldxOmdhdGVob3VzZV9XRC15eldIUXZoQjI4R1JaV3p1LWVnRkZFeVJOd0t4NjNLQURwVExINjNn"},
		{"query", "/streaming-property/v1/oauth2/token?grant_type=client_credentials&client_id=5934de97c95e1ced&client_secret=gatehouse_WD-yzWHQvhB28GRZWzu-egFFEyRNwKx63KADpTLH63g", "", "", ""},
	}
	for _, s := range shapes {
		b.Run(s.name, func(b *testing.B) {
			r := httptest.NewRequest("POST", s.target, nil)
			body := &rewindBody{body: s.body}
			r.Body = body
			if s.ctype != "" {
				r.Header.Set("Content-Type", s.ctype)
			}
			if s.auth != "" {
				r.Header.Set("Authorization", s.auth)
			}
			opts := ParseOptions{AllowQuery: strings.Contains(s.target, "?")}
			b.ReportAllocs()
			for b.Loop() {
				body.Reset(s.body)
				req, err := ParseTokenRequest(nil, r, opts)
				if err != nil || req.ClientID == "" {
					b.Fatalf("got %+v, %v", req, err)
				}
			}
		})
	}
}
