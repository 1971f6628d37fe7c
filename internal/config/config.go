// Package config is the typed configuration of `gatehouse serve`: defaults,
// an optional YAML file (unknown fields are an error), GATEHOUSE_*
// environment variables, then flags, in rising precedence; Validate says in
// plain words what is wrong.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/mtls"
	"github.com/gatehouse/gatehouse/internal/proxy"
)

// Config is everything `gatehouse serve` reads.
type Config struct {
	Addr            string        `yaml:"addr"`
	AdminAddr       string        `yaml:"admin_addr"`
	DataDir         string        `yaml:"data_dir"`
	DB              string        `yaml:"db"`
	Issuer          string        `yaml:"issuer"`
	TLSCert         string        `yaml:"tls_cert"`
	TLSKey          string        `yaml:"tls_key"`
	LegacyHosts     []string      `yaml:"legacy_hosts"`
	LegacySunset    string        `yaml:"legacy_sunset"`
	DefaultAudience string        `yaml:"default_audience"`
	KeyRotation     time.Duration `yaml:"key_rotation"`
	KeyPublishDelay time.Duration `yaml:"key_publish_delay"`
	TrustedProxies  []string      `yaml:"trusted_proxies"`
	// ClientCA is the PEM bundle tls_client_auth certificates must chain
	// to; ClientCertHeader the header a trusted proxy passes the client
	// certificate in (DESIGN §8, package mtls).
	ClientCA         string `yaml:"client_ca"`
	ClientCertHeader string `yaml:"client_cert_header"`
	// DPoPNonce makes every DPoP proof at the token endpoint carry a
	// server nonce (RFC 9449 §8).
	DPoPNonce      bool          `yaml:"dpop_nonce"`
	AuditRetention time.Duration `yaml:"audit_retention"`
	// SnapshotEvery is the least time between two writes of the snapshot
	// a node on PostgreSQL keeps to start from while the database is down
	// (internal/snapshot); 0 writes none.
	SnapshotEvery time.Duration `yaml:"snapshot_every"`
	LogLevel      string        `yaml:"log_level"`
	LogFormat     string        `yaml:"log_format"`
	// KEK is the key-encryption key; it is read from GATEHOUSE_KEK only,
	// never from a file or flag (those end up in shell history and repos).
	KEK string `yaml:"-"`
	// AuditSpoolSync is the audit spool's fsync policy: always, never, or
	// a duration (package audit, ParseSync).
	AuditSpoolSync string `yaml:"audit_spool_sync"`
	// AuditExport streams audit events to stdout, file:PATH or an http(s)
	// URL; empty is off. AuditExportAuthorization is the HTTP sink's
	// Authorization header, from GATEHOUSE_AUDIT_EXPORT_AUTHORIZATION only.
	AuditExport              string `yaml:"audit_export"`
	AuditExportAuthorization string `yaml:"-"`

	// clientCA is the bundle Validate read from clientCAPath (ClientCA
	// then), so that a start reads the file once.
	clientCA     *mtls.Authority
	clientCAPath string
}

// Default returns the settings of a development start.
func Default() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		DataDir:         "./gatehouse-data",
		KeyRotation:     720 * time.Hour,
		KeyPublishDelay: 10 * time.Minute,
		AuditRetention:  90 * 24 * time.Hour,
		SnapshotEvery:   30 * time.Second,
		LogLevel:        "info",
		LogFormat:       "json",
		AuditSpoolSync:  "1s",
	}
}

// LoadFile merges a YAML file into c.
func (c *Config) LoadFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// Setting names one setting in all three sources.
type Setting struct {
	Flag  string
	Env   string
	Usage string
}

// Settings lists what flags and environment variables set; the field each
// one sets is found by Set.
var Settings = []Setting{
	{"addr", "GATEHOUSE_ADDR", "public listen address"},
	{"admin-addr", "GATEHOUSE_ADMIN_ADDR", "separate listener for /admin/v1, /console and /metrics (default: the public one)"},
	{"data-dir", "GATEHOUSE_DATA_DIR", "data directory: SQLite database, kek, admin-client.json"},
	{"db", "GATEHOUSE_DB", "database: postgres://... (default: SQLite in the data directory)"},
	{"issuer", "GATEHOUSE_ISSUER", "issuer URL, used verbatim in iss and metadata (default: http://<addr>)"},
	{"tls-cert", "GATEHOUSE_TLS_CERT", "TLS certificate file (PEM) to serve HTTPS directly"},
	{"tls-key", "GATEHOUSE_TLS_KEY", "TLS private key file (PEM)"},
	{"legacy-host", "GATEHOUSE_LEGACY_HOSTS", "an old issuer host name served the same endpoint, with Deprecation/Sunset headers (repeatable; env: comma-separated)"},
	{"legacy-sunset", "GATEHOUSE_LEGACY_SUNSET", "date (YYYY-MM-DD) in the Sunset header of legacy-host responses"},
	{"default-audience", "GATEHOUSE_DEFAULT_AUDIENCE", "audience used when a token request names none"},
	{"key-rotation", "GATEHOUSE_KEY_ROTATION", "automatic signing-key rotation period (0 turns it off)"},
	{"key-publish-delay", "GATEHOUSE_KEY_PUBLISH_DELAY", "how long a new signing key is published before it signs"},
	{"trusted-proxy", "GATEHOUSE_TRUSTED_PROXIES", "CIDR of a proxy whose X-Forwarded-* headers are trusted (repeatable; env: comma-separated)"},
	{"client-ca", "GATEHOUSE_CLIENT_CA", "CA bundle (PEM) that tls_client_auth client certificates must chain to"},
	{"client-cert-header", "GATEHOUSE_CLIENT_CERT_HEADER", "header in which a --trusted-proxy passes the client certificate: URL-escaped or plain PEM (nginx), or Envoy's X-Forwarded-Client-Cert"},
	{"dpop-nonce", "GATEHOUSE_DPOP_NONCE", "require a server nonce in DPoP proofs at the token endpoint (true or false)"},
	{"audit-retention", "GATEHOUSE_AUDIT_RETENTION", "how long audit events are kept (0 keeps them forever)"},
	{"snapshot-every", "GATEHOUSE_SNAPSHOT_EVERY", "least time between writes of the encrypted snapshot a node on PostgreSQL starts from while the database is down (0: none)"},
	{"log-level", "GATEHOUSE_LOG_LEVEL", "debug, info, warn or error"},
	{"log-format", "GATEHOUSE_LOG_FORMAT", "json or text"},
	{"audit-spool-sync", "GATEHOUSE_AUDIT_SPOOL_SYNC", "fsync policy of the audit spool in the data directory: always, never, or at most this long after a write (a duration)"},
	{"audit-export", "GATEHOUSE_AUDIT_EXPORT", "stream audit events as JSON lines to stdout, file:PATH or an http(s) URL (env GATEHOUSE_AUDIT_EXPORT_AUTHORIZATION sets the HTTP Authorization header)"},
}

// Set assigns a setting from its text form (an env var or a flag's value).
func (c *Config) Set(flag, value string) error {
	var err error
	switch flag {
	case "addr":
		c.Addr = value
	case "admin-addr":
		c.AdminAddr = value
	case "data-dir":
		c.DataDir = value
	case "db":
		c.DB = value
	case "issuer":
		c.Issuer = value
	case "tls-cert":
		c.TLSCert = value
	case "tls-key":
		c.TLSKey = value
	case "legacy-host":
		c.LegacyHosts = splitList(value)
	case "legacy-sunset":
		c.LegacySunset = value
	case "default-audience":
		c.DefaultAudience = value
	case "key-rotation":
		c.KeyRotation, err = time.ParseDuration(value)
	case "key-publish-delay":
		c.KeyPublishDelay, err = time.ParseDuration(value)
	case "trusted-proxy":
		c.TrustedProxies = splitList(value)
	case "client-ca":
		c.ClientCA = value
	case "client-cert-header":
		c.ClientCertHeader = value
	case "dpop-nonce":
		if c.DPoPNonce, err = strconv.ParseBool(value); err != nil {
			return fmt.Errorf("--%s: %q is not true or false", flag, value)
		}
	case "audit-retention":
		c.AuditRetention, err = time.ParseDuration(value)
	case "snapshot-every":
		c.SnapshotEvery, err = time.ParseDuration(value)
	case "log-level":
		c.LogLevel = value
	case "log-format":
		c.LogFormat = value
	case "audit-spool-sync":
		c.AuditSpoolSync = value
	case "audit-export":
		c.AuditExport = value
	default:
		return fmt.Errorf("unknown setting %q", flag)
	}
	if err != nil {
		return fmt.Errorf("--%s: %q is not a duration (examples: 720h, 10m)", flag, value)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// LoadEnv applies every GATEHOUSE_* variable that is set.
func (c *Config) LoadEnv(getenv func(string) string) error {
	for _, s := range Settings {
		if v := getenv(s.Env); v != "" {
			if err := c.Set(s.Flag, v); err != nil {
				return fmt.Errorf("%s: %w", s.Env, err)
			}
		}
	}
	c.KEK = getenv("GATEHOUSE_KEK")
	c.AuditExportAuthorization = getenv("GATEHOUSE_AUDIT_EXPORT_AUTHORIZATION")
	return nil
}

// Validate checks the whole configuration and fills derived defaults.
func (c *Config) Validate() error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("addr %q is not host:port", c.Addr)
	}
	if c.AdminAddr != "" {
		if _, _, err := net.SplitHostPort(c.AdminAddr); err != nil {
			bad("admin_addr %q is not host:port", c.AdminAddr)
		} else if c.AdminAddr == c.Addr {
			bad("admin_addr must differ from addr (leave it empty to share the public listener)")
		}
	}
	if c.DB == "" && c.DataDir == "" {
		bad("data_dir is required with the embedded SQLite store")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("tls_cert and tls_key go together")
	}
	if c.Issuer == "" {
		c.Issuer = c.DefaultIssuer()
	} else if u, err := url.Parse(c.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		bad("issuer %q must be an http(s) URL without query or fragment", c.Issuer)
	}
	if len(c.LegacyHosts) > 0 {
		if c.LegacySunset == "" {
			bad("legacy_hosts need legacy_sunset, the date (YYYY-MM-DD) sent in their Sunset header")
		} else if _, err := time.Parse("2006-01-02", c.LegacySunset); err != nil {
			bad("legacy_sunset %q is not a date like 2027-06-30", c.LegacySunset)
		}
	}
	for _, err := range proxy.CheckSettings("trusted_proxies (--trusted-proxy)", c.TrustedProxies, c.ClientCertHeader) {
		bad("%v", err)
	}
	c.validateClientCA(bad)
	if c.KeyRotation < 0 || (c.KeyRotation > 0 && c.KeyRotation < time.Hour) {
		bad("key_rotation must be 0 (off) or at least 1h")
	}
	if c.AuditRetention < 0 || (c.AuditRetention > 0 && c.AuditRetention < time.Hour) {
		bad("audit_retention must be 0 (keep forever) or at least 1h")
	}
	if c.SnapshotEvery < 0 {
		bad("snapshot_every must be 0 (no snapshot) or a duration such as 30s")
	}
	c.validateAudit(bad)
	if c.KeyPublishDelay < 0 {
		bad("key_publish_delay must not be negative")
	}
	if c.DefaultAudience != "" {
		if u, err := url.Parse(c.DefaultAudience); err != nil || !u.IsAbs() {
			bad("default_audience %q is not an absolute URI", c.DefaultAudience)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid configuration:\n  - %s", strings.Join(problems, "\n  - "))
	}
	return nil
}

// validateClientCA reads the RFC 8705 CA bundle now, so that a wrong file
// stops the start rather than every tls_client_auth request, and keeps it
// for ClientAuthority.
func (c *Config) validateClientCA(bad func(string, ...any)) {
	c.clientCA, c.clientCAPath = nil, ""
	if c.ClientCA == "" {
		return
	}
	ca, err := mtls.LoadAuthority(c.ClientCA)
	if err != nil {
		bad("client_ca: %v", err)
		return
	}
	c.clientCA, c.clientCAPath = ca, c.ClientCA
}

// ClientAuthority is the CA bundle of ClientCA, nil when none is set: the
// one Validate read, so that the file is read once at start. On a Config
// that Validate has not checked since ClientCA was set, it reads the file
// now.
func (c *Config) ClientAuthority() (*mtls.Authority, error) {
	switch {
	case c.ClientCA == "":
		return nil, nil
	case c.clientCA != nil && c.clientCAPath == c.ClientCA:
		return c.clientCA, nil
	}
	return mtls.LoadAuthority(c.ClientCA)
}

// validateAudit checks the spool's fsync policy and the export target;
// both live in the data directory's spool, so they need one.
func (c *Config) validateAudit(bad func(string, ...any)) {
	if _, err := audit.ParseSync(c.AuditSpoolSync); err != nil {
		bad("audit_spool_sync: %v", err)
	}
	if c.AuditExport == "" {
		return
	}
	if err := audit.CheckTarget(c.AuditExport); err != nil {
		bad("audit_export: %v", err)
	}
	if c.DataDir == "" {
		bad("audit_export needs data_dir: the export's cursor and the audit spool live there")
	}
}

// DefaultIssuer is http(s)://<addr>, with a wildcard host made loopback.
func (c *Config) DefaultIssuer() string {
	scheme := "http"
	if c.TLSCert != "" {
		scheme = "https"
	}
	return scheme + "://" + LocalAddr(c.Addr)
}

// LocalAddr turns a listen address into one a local client can dial.
func LocalAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// InsecureIssuerWarning returns a warning when tokens would be requested
// over plain HTTP from beyond this machine, or "".
func (c *Config) InsecureIssuerWarning() string {
	u, err := url.Parse(c.Issuer)
	if err != nil || u.Scheme != "http" {
		return ""
	}
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return ""
	}
	ip, err := netip.ParseAddr(host)
	if host == "localhost" || (err == nil && ip.IsLoopback()) {
		return ""
	}
	return fmt.Sprintf("issuer %s is plain http on non-loopback address %s: client secrets and tokens cross the network unencrypted; serve TLS (--tls-cert/--tls-key) or put gatehouse behind an HTTPS proxy and set --issuer https://...", c.Issuer, c.Addr)
}
