package gateway

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const minimalConfig = `
listen: 127.0.0.1:8443
gatehouse:
  issuer: https://auth.example.io
  client_id: gw
  client_secret: s3cret
routes:
  - path: /orders/
    upstream: http://127.0.0.1:9000
    audience: https://api.example.io
`

func TestParseDefaults(t *testing.T) {
	cfg, err := Parse([]byte(minimalConfig))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"introspection_cache_ttl", cfg.IntrospectionCacheTTL, 30 * time.Second},
		{"inactive_cache_ttl", cfg.InactiveCacheTTL, 5 * time.Second},
		{"revocation_poll_interval", cfg.RevocationPollInterval, 2 * time.Second},
		{"max_header_bytes", cfg.MaxHeaderBytes, 32 << 10},
		{"timeouts", cfg.Timeouts, DefaultTimeouts},
		{"forward_authorization", *cfg.Routes[0].ForwardAuthorization, true},
		{"route name", cfg.Routes[0].Name, "/orders/"},
		{"base URL", cfg.Gatehouse.BaseURL(), "https://auth.example.io"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestExampleConfig(t *testing.T) {
	cfg, err := LoadFile(filepath.Join("testdata", "gateway.example.yaml"))
	if err != nil {
		t.Fatalf("the example config: %v", err)
	}
	if len(cfg.Routes) != 3 || cfg.Routes[0].Service != "streaming-property" || *cfg.Routes[2].ForwardAuthorization {
		t.Errorf("got routes %+v, want the three example routes", cfg.Routes)
	}
	if cfg.TLS == nil || cfg.TLS.KeyFile == "" || cfg.ClientCertHeader != "X-SSL-Client-Cert" || len(cfg.TrustedProxies) != 1 {
		t.Errorf("got tls %+v, client_cert_header %q, trusted_proxies %v; want the example's certificate sources",
			cfg.TLS, cfg.ClientCertHeader, cfg.TrustedProxies)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       string // in the error
	}{
		{"empty file", "", "the file is empty"},
		{"unknown field", minimalConfig + "colour: blue\n", "field colour not found"},
		{"unknown route field", strings.Replace(minimalConfig, "    audience:", "    audiense: x\n    audience:", 1), "field audiense not found"},
		{"bad listen", strings.Replace(minimalConfig, "127.0.0.1:8443", "8443", 1), `listen "8443" is not host:port`},
		{"no issuer", strings.Replace(minimalConfig, "  issuer: https://auth.example.io\n", "", 1), "gatehouse.issuer is required"},
		{"issuer not http", strings.Replace(minimalConfig, "https://auth.example.io", "ftp://auth", 1), "must be an http(s) URL"},
		{"no client id", strings.Replace(minimalConfig, "  client_id: gw\n", "", 1), "gatehouse.client_id is required"},
		{"no secret", strings.Replace(minimalConfig, "  client_secret: s3cret\n", "", 1), "exactly one of client_secret and client_secret_file"},
		{"two secrets", strings.Replace(minimalConfig, "  client_secret: s3cret\n", "  client_secret: a\n  client_secret_file: /f\n", 1),
			"exactly one of client_secret and client_secret_file"},
		{"negative ttl", minimalConfig + "introspection_cache_ttl: -1s\n", "introspection_cache_ttl must not be negative"},
		{"not a duration", minimalConfig + "revocation_poll_interval: often\n", "cannot unmarshal"},
		{"poll too often", minimalConfig + "revocation_poll_interval: 10ms\n", "at least 100ms"},
		{"header limit", minimalConfig + "max_header_bytes: 10\n", "max_header_bytes must be between"},
		{"negative timeout", minimalConfig + "timeouts:\n  upstream: -2s\n", "timeouts.upstream must not be negative"},
		{"no routes", strings.Split(minimalConfig, "routes:")[0], "at least one route"},
		{"path and service", strings.Replace(minimalConfig, "  - path: /orders/", "  - path: /orders/\n    service: orders", 1),
			"set exactly one of path and service"},
		{"relative path", strings.Replace(minimalConfig, "path: /orders/", "path: orders/", 1), "must be a clean absolute path"},
		{"unclean path", strings.Replace(minimalConfig, "path: /orders/", "path: /a/../orders/", 1), "must be a clean absolute path"},
		{"reserved service", strings.Replace(minimalConfig, "path: /orders/", "service: oauth", 1), "not a valid service name"},
		{"upper-case service", strings.Replace(minimalConfig, "path: /orders/", "service: Streaming", 1), "not a valid service name"},
		{"no upstream", strings.Replace(minimalConfig, "    upstream: http://127.0.0.1:9000\n", "", 1), "upstream is required"},
		{"upstream with query", strings.Replace(minimalConfig, "127.0.0.1:9000", "127.0.0.1:9000/?a=b", 1), "must be an http(s) URL"},
		{"relative audience", strings.Replace(minimalConfig, "https://api.example.io", "api", 1), "absolute audience URI"},
		{"scope with space", minimalConfig + "    scopes: [\"a b\"]\n", `scope "a b" is not a scope name`},
		{"token requests on a path route", minimalConfig + "    forward_token_requests: true\n", "service routes only"},
		{"public URL not http", minimalConfig + "public_url: api.example.io\n", `public_url "api.example.io" must be an http(s) URL`},
		{"public URL with query", minimalConfig + "public_url: https://api.example.io/?a\n", "must be an http(s) URL"},
		{"metadata without public URL", minimalConfig + "resource_metadata: true\n", "resource_metadata needs public_url"},
		{"TLS without a key", minimalConfig + "tls:\n  cert_file: /c.pem\n", "tls needs both cert_file and key_file"},
		{"certificate header without proxies", minimalConfig + "client_cert_header: X-SSL-Client-Cert\n", "needs trusted_proxies"},
		{"certificate header not a name", minimalConfig + "client_cert_header: \"X SSL\"\ntrusted_proxies: [10.0.0.1]\n",
			"is not an HTTP header name"},
		{"proxy not an address", minimalConfig + "trusted_proxies: [proxy.internal]\n", `"proxy.internal" is not an IP address`},
		{"duplicate route", minimalConfig + "  - path: /orders/\n    upstream: http://x\n    audience: urn:x\n", "already defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestSecretFile(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, "secret")
	if err := os.WriteFile(full, []byte("gh_s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file, want, wantErr string
	}{
		{full, "gh_s3cret", ""},
		{empty, "", "is empty"},
		{filepath.Join(dir, "missing"), "", "no such file"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			g := Gatehouse{ClientSecretFile: tt.file}
			got, err := g.Secret()
			if got != tt.want || (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("got %q, %v; want %q, error containing %q", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// FuzzParse checks that no configuration text panics the parser.
func FuzzParse(f *testing.F) {
	f.Add([]byte(minimalConfig))
	f.Add([]byte("routes: [{service: a, upstream: 'http://x', audience: 'urn:a'}]"))
	f.Add([]byte("listen: [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = Parse(data)
	})
}
