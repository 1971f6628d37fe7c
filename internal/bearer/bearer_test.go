package bearer

import (
	"errors"
	"go/build"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// other stands for a second scheme, to show that the result names the
// scheme that matched.
const other Scheme = "Other"

func TestFromHeader(t *testing.T) {
	tests := []struct {
		name          string
		authorization []string
		accepted      []Scheme
		want          Token
		wantErr       error
	}{
		{"token", []string{"Bearer abc"}, []Scheme{SchemeBearer}, Token{SchemeBearer, "abc"}, nil},
		{"lower-case scheme", []string{"bearer abc"}, []Scheme{SchemeBearer}, Token{SchemeBearer, "abc"}, nil},
		{"upper-case scheme", []string{"BEARER abc"}, []Scheme{SchemeBearer}, Token{SchemeBearer, "abc"}, nil},
		{"spaces around", []string{"  Bearer   abc  "}, []Scheme{SchemeBearer}, Token{SchemeBearer, "abc"}, nil},
		{"second scheme", []string{"other abc"}, []Scheme{SchemeBearer, other}, Token{other, "abc"}, nil},
		{"DPoP", []string{"DPoP abc"}, []Scheme{SchemeBearer, SchemeDPoP}, Token{SchemeDPoP, "abc"}, nil},
		{"DPoP in lower case", []string{"dpop abc"}, []Scheme{SchemeBearer, SchemeDPoP}, Token{SchemeDPoP, "abc"}, nil},
		{"DPoP not accepted", []string{"DPoP abc"}, []Scheme{SchemeBearer}, Token{}, ErrNoToken},
		{"Bearer not accepted", []string{"Bearer abc"}, []Scheme{SchemeDPoP}, Token{}, ErrNoToken},
		{"no header", nil, []Scheme{SchemeBearer}, Token{}, ErrNoToken},
		{"empty header", []string{""}, []Scheme{SchemeBearer}, Token{}, ErrNoToken},
		{"another scheme", []string{"Basic YTpi"}, []Scheme{SchemeBearer}, Token{}, ErrNoToken},
		{"scheme not accepted", []string{"Other abc"}, []Scheme{SchemeBearer}, Token{}, ErrNoToken},
		{"no scheme accepted", []string{"Bearer abc"}, nil, Token{}, ErrNoToken},
		{"no space after scheme", []string{"Bearerabc"}, []Scheme{SchemeBearer}, Token{}, ErrNoToken},
		{"tab after scheme", []string{"Bearer\tabc"}, []Scheme{SchemeBearer}, Token{}, ErrNoToken},
		{"scheme only", []string{"Bearer"}, []Scheme{SchemeBearer}, Token{}, ErrMalformed},
		{"empty token", []string{"Bearer   "}, []Scheme{SchemeBearer}, Token{}, ErrMalformed},
		{"space in token", []string{"Bearer a b"}, []Scheme{SchemeBearer}, Token{}, ErrMalformed},
		{"tab in token", []string{"Bearer a\tb"}, []Scheme{SchemeBearer}, Token{}, ErrMalformed},
		{"two headers", []string{"Bearer a", "Bearer b"}, []Scheme{SchemeBearer}, Token{}, ErrMalformed},
		{"two headers of another scheme", []string{"Basic a", "Basic b"}, []Scheme{SchemeBearer}, Token{}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, a := range tt.authorization {
				h.Add("Authorization", a)
			}
			got, err := FromHeader(h, tt.accepted...)
			if got != tt.want || !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("got %+v, %v, want %+v, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func FuzzFromHeader(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer  a.b.c ", "Bearer", "Basic YTpi", "Bearer a b", "Bearer\tx", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, authorization string) {
		got, err := FromHeader(http.Header{"Authorization": {authorization}}, SchemeBearer)
		switch {
		case err != nil && got != Token{}:
			t.Errorf("got %+v with %v, want no token with an error", got, err)
		case err == nil && got.Scheme != SchemeBearer:
			t.Errorf("got scheme %q, want %q", got.Scheme, SchemeBearer)
		case err == nil && (got.Value == "" || strings.ContainsAny(got.Value, " \t")):
			t.Errorf("got token %q, want one without spaces", got.Value)
		case err == nil && !strings.Contains(authorization, got.Value):
			t.Errorf("got token %q, want a part of %q", got.Value, authorization)
		}
	})
}

func TestChallengeString(t *testing.T) {
	tests := []struct {
		name string
		c    Challenge
		want string
	}{
		{"nothing", Challenge{Scheme: SchemeBearer}, "Bearer"},
		{"realm only", Challenge{Scheme: SchemeBearer, Realm: "things"}, `Bearer realm="things"`},
		{"no token: no description", Challenge{Scheme: SchemeBearer, Realm: "things", Description: "a token is required"},
			`Bearer realm="things"`},
		{"invalid token", Challenge{Scheme: SchemeBearer, Realm: "things", Code: "invalid_token", Description: "token expired"},
			`Bearer realm="things", error="invalid_token", error_description="token expired"`},
		{"code without description", Challenge{Scheme: SchemeBearer, Code: "invalid_token"}, `Bearer error="invalid_token"`},
		{"insufficient scope", Challenge{Scheme: SchemeBearer, Realm: "things", Code: "insufficient_scope",
			Description: "the token lacks a required scope", Scope: "read write"},
			`Bearer realm="things", error="insufficient_scope", error_description="the token lacks a required scope", scope="read write"`},
		{"quoting", Challenge{Scheme: SchemeBearer, Realm: `a"b\c` + "\n", Code: "invalid_token", Description: "é bad"},
			`Bearer realm="abc", error="invalid_token", error_description=" bad"`},
		{"the scheme given", Challenge{Scheme: other, Realm: "things"}, `Other realm="things"`},
		{"DPoP algs", Challenge{Scheme: SchemeDPoP, Realm: "things", Algs: "ES256 EdDSA"},
			`DPoP realm="things", algs="ES256 EdDSA"`},
		{"DPoP proof error", Challenge{Scheme: SchemeDPoP, Code: "invalid_dpop_proof", Description: "DPoP proof replayed",
			Algs: "ES256"}, `DPoP error="invalid_dpop_proof", error_description="DPoP proof replayed", algs="ES256"`},
		{"resource metadata", Challenge{Scheme: SchemeBearer, Realm: "things",
			ResourceMetadata: "https://api.example.io/.well-known/oauth-protected-resource"},
			`Bearer realm="things", resource_metadata="https://api.example.io/.well-known/oauth-protected-resource"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.String(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestWriteChallenges(t *testing.T) {
	rec := httptest.NewRecorder()
	rec.Header().Set("WWW-Authenticate", "stale")
	WriteChallenges(rec, http.StatusUnauthorized,
		Challenge{Scheme: SchemeDPoP, Realm: "things", Code: "invalid_dpop_proof", Description: "DPoP proof replayed", Algs: "ES256"},
		Challenge{Scheme: SchemeBearer, Realm: "things"})
	want := []string{
		`DPoP realm="things", error="invalid_dpop_proof", error_description="DPoP proof replayed", algs="ES256"`,
		`Bearer realm="things"`,
	}
	if got := rec.Header().Values("WWW-Authenticate"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("WWW-Authenticate: got %q, want %q", got, want)
	}
	if got, want := rec.Body.String(), `{"error":"invalid_dpop_proof","error_description":"DPoP proof replayed"}`+"\n"; got != want {
		t.Errorf("body: got %q, want %q", got, want)
	}
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name         string
		write        func(http.ResponseWriter)
		status       int
		authenticate string
		body         string
	}{
		{"challenge", func(w http.ResponseWriter) {
			WriteChallenge(w, http.StatusUnauthorized, Challenge{Scheme: SchemeBearer, Realm: "things",
				Code: "invalid_token", Description: "token expired"})
		}, 401, `Bearer realm="things", error="invalid_token", error_description="token expired"`,
			`{"error":"invalid_token","error_description":"token expired"}`},
		{"challenge without a code", func(w http.ResponseWriter) {
			WriteChallenge(w, http.StatusUnauthorized, Challenge{Scheme: SchemeBearer, Realm: "things",
				Description: "a bearer access token is required"})
		}, 401, `Bearer realm="things"`, `{"error_description":"a bearer access token is required"}`},
		{"error", func(w http.ResponseWriter) {
			WriteError(w, http.StatusNotFound, "not_found", "No route for this path.")
		}, 404, "", `{"error":"not_found","error_description":"No route for this path."}`},
		{"error without a description", func(w http.ResponseWriter) {
			WriteError(w, http.StatusInternalServerError, "server_error", "")
		}, 500, "", `{"error":"server_error","error_description":""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tt.write(rec)
			if rec.Code != tt.status {
				t.Errorf("status: got %d, want %d", rec.Code, tt.status)
			}
			for _, h := range []struct{ name, want string }{
				{"WWW-Authenticate", tt.authenticate},
				{"Content-Type", "application/json"},
				{"Cache-Control", "no-store"},
			} {
				if got := rec.Header().Get(h.name); got != h.want {
					t.Errorf("%s: got %q, want %q", h.name, got, h.want)
				}
			}
			if got := rec.Body.String(); got != tt.body+"\n" {
				t.Errorf("body: got %q, want %q", got, tt.body+"\n")
			}
		})
	}
}

// TestStandardLibraryOnly keeps the promise of doc.go: verify, a public
// package, imports this one.
func TestStandardLibraryOnly(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range pkg.Imports {
		if first, _, _ := strings.Cut(path, "/"); strings.Contains(first, ".") {
			t.Errorf("got import %q, want the standard library only", path)
		}
	}
}
