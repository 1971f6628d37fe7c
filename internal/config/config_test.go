package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/mtls/mtlstest"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gatehouse.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fakeEnv is a getenv over a map.
func fakeEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaultValidates(t *testing.T) {
	c := config.Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate(): got %v, want nil", err)
	}
	if got, want := c.Issuer, "http://127.0.0.1:8080"; got != want {
		t.Errorf("Issuer after Validate: got %q, want %q", got, want)
	}
	if got := c.InsecureIssuerWarning(); got != "" {
		t.Errorf("InsecureIssuerWarning on the default: got %q, want none", got)
	}
}

func TestLoadFile(t *testing.T) {
	path := writeFile(t, `
addr: 0.0.0.0:9000
issuer: https://auth.example.io
legacy_hosts: [auth.old.example.io, auth2.old.example.io]
legacy_sunset: "2027-06-30"
key_rotation: 48h
trusted_proxies:
  - 10.0.0.0/8
client_cert_header: X-SSL-Client-Cert
log_level: debug
`)
	c := config.Default()
	if err := c.LoadFile(path); err != nil {
		t.Fatalf("LoadFile: got %v, want nil", err)
	}
	want := config.Default()
	want.Addr = "0.0.0.0:9000"
	want.Issuer = "https://auth.example.io"
	want.LegacyHosts = []string{"auth.old.example.io", "auth2.old.example.io"}
	want.LegacySunset = "2027-06-30"
	want.KeyRotation = 48 * time.Hour
	want.TrustedProxies = []string{"10.0.0.0/8"}
	want.ClientCertHeader = "X-SSL-Client-Cert"
	want.LogLevel = "debug"
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v, want %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: got %v, want nil", err)
	}
}

func TestLoadFileErrors(t *testing.T) {
	tests := []struct {
		name, content string
		want          []string
	}{
		{"unknown field", "addr: 127.0.0.1:1\nlisten_addr: 0.0.0.0:80\n", []string{"listen_addr"}},
		{"kek is env only", "kek: c2VjcmV0\n", []string{"kek"}},
		{"bad duration", "key_rotation: soon\n", []string{"soon"}},
		{"not yaml", "addr: [\n", []string{"gatehouse.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			err := c.LoadFile(writeFile(t, tt.content))
			if err == nil {
				t.Fatalf("got nil, want an error mentioning %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

func TestLoadFileEmptyAndMissing(t *testing.T) {
	c := config.Default()
	if err := c.LoadFile(writeFile(t, "")); err != nil {
		t.Errorf("empty file: got %v, want nil", err)
	}
	if !reflect.DeepEqual(c, config.Default()) {
		t.Errorf("empty file changed the config: got %+v", c)
	}
	if err := c.LoadFile(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Errorf("missing file: got nil, want an error")
	}
}

func TestEnvOverridesFile(t *testing.T) {
	c := config.Default()
	if err := c.LoadFile(writeFile(t, "addr: 127.0.0.1:9000\ndb: postgres://file/db\nlog_level: warn\n")); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"GATEHOUSE_ADDR":               "127.0.0.1:9100",
		"GATEHOUSE_DB":                 "postgres://env/db",
		"GATEHOUSE_TRUSTED_PROXIES":    " 10.0.0.0/8 , ,192.168.1.1",
		"GATEHOUSE_KEK":                "a2VrLWZyb20tZW52",
		"GATEHOUSE_URL":                "http://cli-only:1",
		"GATEHOUSE_CLIENT_CA":          "/etc/ca.pem",
		"GATEHOUSE_CLIENT_CERT_HEADER": "X-Forwarded-Client-Cert",
	}
	if err := c.LoadEnv(fakeEnv(env)); err != nil {
		t.Fatalf("LoadEnv: got %v, want nil", err)
	}
	checks := []struct{ name, got, want string }{
		{"Addr", c.Addr, "127.0.0.1:9100"},
		{"DB", c.DB, "postgres://env/db"},
		{"LogLevel (file, no env)", c.LogLevel, "warn"},
		{"DataDir (default)", c.DataDir, "./gatehouse-data"},
		{"KEK", c.KEK, "a2VrLWZyb20tZW52"},
		{"TrustedProxies", strings.Join(c.TrustedProxies, "|"), "10.0.0.0/8|192.168.1.1"},
		{"ClientCA", c.ClientCA, "/etc/ca.pem"},
		{"ClientCertHeader", c.ClientCertHeader, "X-Forwarded-Client-Cert"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: got %q, want %q", ch.name, ch.got, ch.want)
		}
	}
}

func TestLoadEnvBadDuration(t *testing.T) {
	c := config.Default()
	err := c.LoadEnv(fakeEnv(map[string]string{"GATEHOUSE_KEY_ROTATION": "weekly"}))
	if err == nil || !strings.Contains(err.Error(), "GATEHOUSE_KEY_ROTATION") || !strings.Contains(err.Error(), "weekly") {
		t.Errorf("got %v, want an error naming GATEHOUSE_KEY_ROTATION and the value", err)
	}
}

func TestSet(t *testing.T) {
	tests := []struct {
		flag, value string
		get         func(c config.Config) any
		want        any
	}{
		{"addr", "0.0.0.0:1", func(c config.Config) any { return c.Addr }, "0.0.0.0:1"},
		{"admin-addr", "127.0.0.1:2", func(c config.Config) any { return c.AdminAddr }, "127.0.0.1:2"},
		{"data-dir", "/var/lib/gh", func(c config.Config) any { return c.DataDir }, "/var/lib/gh"},
		{"db", "postgres://x/y", func(c config.Config) any { return c.DB }, "postgres://x/y"},
		{"issuer", "https://auth.example.io", func(c config.Config) any { return c.Issuer }, "https://auth.example.io"},
		{"tls-cert", "c.pem", func(c config.Config) any { return c.TLSCert }, "c.pem"},
		{"tls-key", "k.pem", func(c config.Config) any { return c.TLSKey }, "k.pem"},
		{"legacy-host", "a.example, b.example", func(c config.Config) any { return c.LegacyHosts }, []string{"a.example", "b.example"}},
		{"legacy-sunset", "2027-06-30", func(c config.Config) any { return c.LegacySunset }, "2027-06-30"},
		{"default-audience", "https://api.example.io", func(c config.Config) any { return c.DefaultAudience }, "https://api.example.io"},
		{"key-rotation", "24h", func(c config.Config) any { return c.KeyRotation }, 24 * time.Hour},
		{"key-publish-delay", "90s", func(c config.Config) any { return c.KeyPublishDelay }, 90 * time.Second},
		{"trusted-proxy", "10.0.0.0/8", func(c config.Config) any { return c.TrustedProxies }, []string{"10.0.0.0/8"}},
		{"client-ca", "/etc/gatehouse/clients-ca.pem", func(c config.Config) any { return c.ClientCA }, "/etc/gatehouse/clients-ca.pem"},
		{"client-cert-header", "X-SSL-Client-Cert", func(c config.Config) any { return c.ClientCertHeader }, "X-SSL-Client-Cert"},
		{"dpop-nonce", "true", func(c config.Config) any { return c.DPoPNonce }, true},
		{"audit-retention", "720h", func(c config.Config) any { return c.AuditRetention }, 720 * time.Hour},
		{"snapshot-every", "5s", func(c config.Config) any { return c.SnapshotEvery }, 5 * time.Second},
		{"log-level", "debug", func(c config.Config) any { return c.LogLevel }, "debug"},
		{"log-format", "text", func(c config.Config) any { return c.LogFormat }, "text"},
		{"audit-spool-sync", "always", func(c config.Config) any { return c.AuditSpoolSync }, "always"},
		{"audit-export", "stdout", func(c config.Config) any { return c.AuditExport }, "stdout"},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.flag] = true
		t.Run(tt.flag, func(t *testing.T) {
			c := config.Default()
			if err := c.Set(tt.flag, tt.value); err != nil {
				t.Fatalf("Set(%q, %q): got %v, want nil", tt.flag, tt.value, err)
			}
			if got := tt.get(c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
	for _, s := range config.Settings {
		if !covered[s.Flag] {
			t.Errorf("setting %q has no Set test", s.Flag)
		}
		if !strings.HasPrefix(s.Env, "GATEHOUSE_") || s.Usage == "" {
			t.Errorf("setting %+v: want a GATEHOUSE_ variable and a usage", s)
		}
		c := config.Default()
		if err := c.Set(s.Flag, "1h"); err != nil && !strings.HasPrefix(err.Error(), "--"+s.Flag+": ") {
			t.Errorf("Set(%q, \"1h\"): got %v; every listed setting must be known to Set", s.Flag, err)
		}
	}
}

func TestSetErrors(t *testing.T) {
	c := config.Default()
	if err := c.Set("no-such-setting", "x"); err == nil || !strings.Contains(err.Error(), "no-such-setting") {
		t.Errorf("unknown setting: got %v, want an error naming it", err)
	}
	for _, flag := range []string{"key-rotation", "key-publish-delay"} {
		if err := c.Set(flag, "10"); err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("%s=10: got %v, want an error naming the flag", flag, err)
		}
	}
}

func TestValidateErrors(t *testing.T) {
	tests := []struct {
		name   string
		modify func(c *config.Config)
		want   string
	}{
		{"bad addr", func(c *config.Config) { c.Addr = "8080" }, `addr "8080" is not host:port`},
		{"bad admin addr", func(c *config.Config) { c.AdminAddr = "admin" }, `admin_addr "admin" is not host:port`},
		{"admin addr equals addr", func(c *config.Config) { c.AdminAddr = c.Addr }, "admin_addr must differ from addr"},
		{"no data dir", func(c *config.Config) { c.DataDir = "" }, "data_dir is required"},
		{"tls cert without key", func(c *config.Config) { c.TLSCert = "cert.pem" }, "tls_cert and tls_key go together"},
		{"tls key without cert", func(c *config.Config) { c.TLSKey = "key.pem" }, "tls_cert and tls_key go together"},
		{"issuer not a URL", func(c *config.Config) { c.Issuer = "auth.example.io" }, `issuer "auth.example.io" must be an http(s) URL`},
		{"issuer ftp", func(c *config.Config) { c.Issuer = "ftp://auth.example.io" }, "must be an http(s) URL"},
		{"issuer with query", func(c *config.Config) { c.Issuer = "https://auth.example.io/?a=b" }, "without query or fragment"},
		{"issuer with fragment", func(c *config.Config) { c.Issuer = "https://auth.example.io/#x" }, "without query or fragment"},
		{"legacy host without sunset", func(c *config.Config) { c.LegacyHosts = []string{"old.example.io"} }, "legacy_hosts need legacy_sunset"},
		{"bad sunset date", func(c *config.Config) {
			c.LegacyHosts = []string{"old.example.io"}
			c.LegacySunset = "30/06/2027"
		}, `legacy_sunset "30/06/2027" is not a date`},
		{"bad trusted proxy", func(c *config.Config) { c.TrustedProxies = []string{"10.0.0.0/8", "proxy.local"} }, `trusted_proxies (--trusted-proxy): "proxy.local" is not an IP address or CIDR prefix`},
		{"key rotation under 1h", func(c *config.Config) { c.KeyRotation = 59 * time.Minute }, "key_rotation must be 0 (off) or at least 1h"},
		{"key rotation negative", func(c *config.Config) { c.KeyRotation = -time.Hour }, "key_rotation must be 0 (off) or at least 1h"},
		{"negative publish delay", func(c *config.Config) { c.KeyPublishDelay = -time.Second }, "key_publish_delay must not be negative"},
		{"relative default audience", func(c *config.Config) { c.DefaultAudience = "api.example.io" }, `default_audience "api.example.io" is not an absolute URI`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			tt.modify(&c)
			err := c.Validate()
			if err == nil {
				t.Fatalf("got nil, want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestValidateClientCerts covers the RFC 8705 settings: the CA bundle is
// read at start, and the certificate header needs a trusted proxy.
func TestValidateClientCerts(t *testing.T) {
	dir := t.TempDir()
	ca := mtlstest.NewCA(t, "clients")
	bundle := mtlstest.WritePEM(t, filepath.Join(dir, "ca.pem"), ca.Cert)
	_, keyFile := ca.Client(t, "x").WriteFiles(t, dir, "leaf")
	empty := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		modify func(c *config.Config)
		want   string // "" for valid
	}{
		{"bundle", func(c *config.Config) { c.ClientCA = bundle }, ""},
		{"header behind a proxy", func(c *config.Config) {
			c.ClientCertHeader, c.TrustedProxies = "X-SSL-Client-Cert", []string{"10.0.0.0/8"}
		}, ""},
		{"bundle and header", func(c *config.Config) {
			c.ClientCA, c.ClientCertHeader, c.TrustedProxies = bundle, "X-Forwarded-Client-Cert", []string{"10.0.0.1"}
		}, ""},
		{"missing bundle", func(c *config.Config) { c.ClientCA = filepath.Join(dir, "missing.pem") }, "client_ca: client CA bundle: open"},
		{"empty bundle", func(c *config.Config) { c.ClientCA = empty }, "holds no PEM certificate"},
		{"a key, not a bundle", func(c *config.Config) { c.ClientCA = keyFile }, "PRIVATE KEY"},
		{"header without a trusted proxy", func(c *config.Config) { c.ClientCertHeader = "X-SSL-Client-Cert" },
			`client_cert_header "X-SSL-Client-Cert" needs trusted_proxies (--trusted-proxy)`},
		{"header name with a space", func(c *config.Config) {
			c.ClientCertHeader, c.TrustedProxies = "X SSL", []string{"10.0.0.0/8"}
		}, `client_cert_header "X SSL" is not an HTTP header name`},
		{"header name with a colon", func(c *config.Config) {
			c.ClientCertHeader, c.TrustedProxies = "X-Cert:", []string{"10.0.0.0/8"}
		}, "is not an HTTP header name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			tt.modify(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Errorf("got %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestValidateOK(t *testing.T) {
	tests := []struct {
		name   string
		modify func(c *config.Config)
	}{
		{"key rotation off", func(c *config.Config) { c.KeyRotation = 0 }},
		{"key rotation exactly 1h", func(c *config.Config) { c.KeyRotation = time.Hour }},
		{"legacy host with sunset", func(c *config.Config) {
			c.LegacyHosts = []string{"old.example.io"}
			c.LegacySunset = "2027-06-30"
		}},
		{"trusted proxy address and CIDR", func(c *config.Config) { c.TrustedProxies = []string{"10.0.0.1", "fd00::/8"} }},
		{"postgres without data dir", func(c *config.Config) {
			c.DB = "postgres://db/gatehouse"
			c.DataDir = ""
		}},
		{"tls pair", func(c *config.Config) { c.TLSCert, c.TLSKey = "c.pem", "k.pem" }},
		{"issuer with path", func(c *config.Config) { c.Issuer = "https://example.io/auth" }},
		{"urn default audience", func(c *config.Config) { c.DefaultAudience = "urn:gatehouse:admin" }},
		{"separate admin addr", func(c *config.Config) { c.AdminAddr = "127.0.0.1:9090" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			tt.modify(&c)
			if err := c.Validate(); err != nil {
				t.Errorf("got %v, want nil", err)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := config.Default()
	c.Addr = "bad"
	c.TLSCert = "c.pem"
	c.KeyRotation = time.Minute
	err := c.Validate()
	if err == nil {
		t.Fatal("got nil, want an error")
	}
	for _, want := range []string{"addr", "tls_cert", "key_rotation"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got %q, want it to mention %q", err, want)
		}
	}
}

func TestDefaultIssuer(t *testing.T) {
	tests := []struct{ addr, cert, want string }{
		{"0.0.0.0:8080", "", "http://127.0.0.1:8080"},
		{":8080", "", "http://127.0.0.1:8080"},
		{"[::]:8443", "c.pem", "https://127.0.0.1:8443"},
		{"127.0.0.1:8080", "", "http://127.0.0.1:8080"},
		{"auth.internal:80", "", "http://auth.internal:80"},
		{"[::1]:8080", "", "http://[::1]:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			c := config.Default()
			c.Addr, c.TLSCert = tt.addr, tt.cert
			if got := c.DefaultIssuer(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestInsecureIssuerWarning(t *testing.T) {
	tests := []struct {
		name, addr, issuer string
		wantWarning        bool
	}{
		{"loopback v4", "127.0.0.1:8080", "http://127.0.0.1:8080", false},
		{"loopback v6", "[::1]:8080", "http://[::1]:8080", false},
		{"localhost", "localhost:8080", "http://localhost:8080", false},
		{"http on 0.0.0.0", "0.0.0.0:8080", "http://127.0.0.1:8080", true},
		{"http on all interfaces", ":8080", "http://auth.example.io", true},
		{"http on a LAN address", "10.1.2.3:8080", "http://10.1.2.3:8080", true},
		{"https on 0.0.0.0", "0.0.0.0:8080", "https://auth.example.io", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			c.Addr, c.Issuer = tt.addr, tt.issuer
			got := c.InsecureIssuerWarning()
			if (got != "") != tt.wantWarning {
				t.Errorf("got %q, want warning %v", got, tt.wantWarning)
			}
			if tt.wantWarning && !strings.Contains(got, tt.issuer) {
				t.Errorf("got %q, want it to name the issuer %s", got, tt.issuer)
			}
		})
	}
}

func TestValidatedDefaultIssuerWarnsOnWildcard(t *testing.T) {
	c := config.Default()
	c.Addr = "0.0.0.0:8080"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "http://127.0.0.1:8080" {
		t.Errorf("Issuer: got %q, want http://127.0.0.1:8080", c.Issuer)
	}
	if c.InsecureIssuerWarning() == "" {
		t.Errorf("InsecureIssuerWarning: got none, want a warning for plain http on 0.0.0.0")
	}
}

// TestClientAuthorityReadOnce: the CA bundle Validate read is the one the
// server gets, without reading the file again; a ClientCA changed after
// Validate is read afresh.
func TestClientAuthorityReadOnce(t *testing.T) {
	dir := t.TempDir()
	bundle := mtlstest.WritePEM(t, filepath.Join(dir, "ca.pem"), mtlstest.NewCA(t, "clients").Cert)
	c := config.Default()
	if ca, err := c.ClientAuthority(); ca != nil || err != nil {
		t.Errorf("no client_ca: got %v, %v; want nil, nil", ca, err)
	}
	c.ClientCA = bundle
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(bundle); err != nil {
		t.Fatal(err)
	}
	if ca, err := c.ClientAuthority(); ca == nil || err != nil {
		t.Errorf("after Validate, with the file gone: got %v, %v; want the bundle Validate read", ca, err)
	}
	c.ClientCA = filepath.Join(dir, "other.pem")
	if _, err := c.ClientAuthority(); err == nil {
		t.Errorf("ClientCA changed since Validate to a missing file: got no error, want the file read afresh")
	}
}
