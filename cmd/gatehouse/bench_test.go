package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestBenchTokenWithKeys runs bench token against a real gatehouse with a
// private_key_jwt client: assertions made by the load generator, with and
// without DPoP.
func TestBenchTokenWithKeys(t *testing.T) {
	_, keyClient := startKeyedServer(t)
	files := tokenTestKeyFiles(t)
	tests := []struct {
		name     string
		args     []string
		wantAlg  string
		wantDPoP bool
	}{
		{"--key alone means private_key_jwt", []string{"--key", files["ec-sec1"], "--kid", "ec"}, "ES256", false},
		{"RS256 with DPoP", []string{"--auth", "private_key_jwt", "--key", files["rsa-pkcs1"], "--dpop"}, "RS256", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"bench", "token", "--client-id", keyClient.ClientID, "--audience", "https://api.example.io",
				"--concurrency", "2", "--duration", "500ms", "--warmup", "0", "--verify", "-o", "json"}, tt.args...)
			out, err := run(t, "", args...)
			if err != nil {
				t.Fatalf("gatehouse %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			var res struct {
				Auth         string  `json:"auth"`
				AssertionAlg string  `json:"assertion_alg"`
				DPoP         bool    `json:"dpop"`
				OK           float64 `json:"ok"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if res.Auth != "private_key_jwt" || res.AssertionAlg != tt.wantAlg || res.DPoP != tt.wantDPoP || res.OK == 0 {
				t.Errorf("got %+v, want private_key_jwt %s, dpop %v, some tokens", res, tt.wantAlg, tt.wantDPoP)
			}
		})
	}
}

func TestBenchTokenFlagErrors(t *testing.T) {
	files := tokenTestKeyFiles(t)
	t.Setenv("GATEHOUSE_CLIENT_SECRET", "")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--auth", "private_key_jwt"}, "needs --key"},
		{[]string{"--auth", "basic", "--key", files["ec-pkcs8"]}, "go with --auth private_key_jwt"},
		{[]string{"--basic", "--auth", "post", "--client-secret", "s"}, "none of the others can be"},
		{[]string{"--key", files["ec-pkcs8"], "--alg", "RS256"}, "alg RS256 does not fit"},
		{[]string{"--key", files["encrypted"]}, "encrypted"},
		{[]string{"--auth", "mtls", "--client-secret", "s"}, "unknown client authentication"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			args := append([]string{"bench", "token", "--url", "http://127.0.0.1:1", "--client-id", "c", "--duration", "10ms"}, tt.args...)
			out, err := run(t, "", args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v (%s), want an error with %q", err, out, tt.want)
			}
		})
	}
}

// fakeAdmin is the admin API of bench seed's tests: it issues any admin
// token and records the clients it is asked to create.
type fakeAdmin struct {
	*httptest.Server
	mu      sync.Mutex
	creates []map[string]any
}

func startFakeAdmin(t *testing.T) (*fakeAdmin, string) {
	t.Helper()
	f := &fakeAdmin{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/oauth/token":
			io.WriteString(w, `{"access_token":"admin","token_type":"Bearer","expires_in":900}`)
		case "/admin/v1/clients":
			var body map[string]any
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			f.mu.Lock()
			f.creates = append(f.creates, body)
			f.mu.Unlock()
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.Close)
	creds := filepath.Join(t.TempDir(), "admin-client.json")
	writeFile(t, creds, fmt.Sprintf(`{"client_id":"admin","client_secret":"s","token_url":%q}`, f.URL+"/oauth/token"))
	return f, creds
}

// TestBenchSeedAuth checks what bench seed asks the admin API for: the
// auth_method and jwks of private_key_jwt clients, or neither.
func TestBenchSeedAuth(t *testing.T) {
	dir := t.TempDir()
	jwks := `{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"k1"}]}`
	writeFile(t, filepath.Join(dir, "jwks.json"), jwks)
	writeFile(t, filepath.Join(dir, "empty.json"), `{"keys":[]}`)
	tests := []struct {
		name   string
		args   []string
		method string // auth_method sent; "" for none
		err    string
	}{
		{"secrets", nil, "", ""},
		{"private_key_jwt", []string{"--auth", "private_key_jwt", "--jwks-file", filepath.Join(dir, "jwks.json")}, "private_key_jwt", ""},
		{"--jwks-file alone", []string{"--jwks-file", filepath.Join(dir, "jwks.json")}, "private_key_jwt", ""},
		{"no key set", []string{"--auth", "private_key_jwt"}, "", "needs --jwks-file"},
		{"an empty key set", []string{"--jwks-file", filepath.Join(dir, "empty.json")}, "", "at least one key"},
		{"another method", []string{"--auth", "tls_client_auth"}, "", "want client_secret or private_key_jwt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, creds := startFakeAdmin(t)
			args := append([]string{"bench", "seed", "--clients", "3", "--tenant", "acme", "--url", f.URL, "--credentials", creds}, tt.args...)
			out, err := run(t, "", args...)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || len(f.creates) != 0 {
					t.Errorf("got %v after %d creates, want an error with %q and none", err, len(f.creates), tt.err)
				}
				return
			}
			if err != nil || len(f.creates) != 3 {
				t.Fatalf("got %v (%s) after %d creates, want 3", err, out, len(f.creates))
			}
			for _, c := range f.creates {
				got, _ := c["auth_method"].(string)
				set, _ := c["jwks"].(map[string]any)
				keys, _ := set["keys"].([]any)
				if got != tt.method || (tt.method != "") != (len(keys) == 1) {
					t.Errorf("got auth_method %q and jwks %v, want %q with the file's key set", got, c["jwks"], tt.method)
				}
			}
		})
	}
}
