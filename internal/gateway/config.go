package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gatehouse/gatehouse/internal/proxy"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Config is the gateway's YAML configuration file.
type Config struct {
	// Listen is the host:port the gateway serves on.
	Listen    string    `yaml:"listen"`
	Gatehouse Gatehouse `yaml:"gatehouse"`
	// PublicURL is the gateway's external base URL as clients address it
	// (https://api.example.io). A DPoP proof must name PublicURL followed
	// by the request's path as its htu, and the RFC 9728 documents name
	// resources under it. Empty means http:// and the request's Host,
	// which is wrong behind a proxy that terminates TLS.
	PublicURL string `yaml:"public_url"`
	// TLS, when set, makes the gateway serve HTTPS itself, asking every
	// client for a certificate without requiring one: a token bound to a
	// client certificate (cnf x5t#S256) passes only over a connection that
	// presents it.
	TLS *TLS `yaml:"tls"`
	// ClientCertHeader is the header a TLS-terminating proxy in front of
	// the gateway puts the client's certificate in: nginx's URL-escaped
	// PEM ($ssl_client_escaped_cert) under any name, or Envoy's
	// X-Forwarded-Client-Cert. It is read only from TrustedProxies, and
	// removed from every other caller's request before it is forwarded.
	ClientCertHeader string `yaml:"client_cert_header"`
	// TrustedProxies are the addresses (CIDR prefixes or single IPs) of
	// the proxies whose ClientCertHeader counts.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// ResourceMetadata serves RFC 9728 protected resource metadata for
	// each route at /.well-known/oauth-protected-resource followed by the
	// route's path (or /{service}/v1/{apiKey}), and names it in every
	// challenge. It needs PublicURL.
	ResourceMetadata bool `yaml:"resource_metadata"`
	// IntrospectionCacheTTL is how long an active opaque token's
	// introspection answer is reused; never past the token's expiry.
	IntrospectionCacheTTL time.Duration `yaml:"introspection_cache_ttl"`
	// InactiveCacheTTL is how long an "inactive" answer is reused, so a
	// flood of one bad token costs gatehouse one call per period.
	InactiveCacheTTL time.Duration `yaml:"inactive_cache_ttl"`
	// RevocationPollInterval is how often the revoked JWT ids are fetched.
	RevocationPollInterval time.Duration `yaml:"revocation_poll_interval"`
	// MaxHeaderBytes bounds the request line and headers.
	MaxHeaderBytes int      `yaml:"max_header_bytes"`
	Timeouts       Timeouts `yaml:"timeouts"`
	LogLevel       string   `yaml:"log_level"`
	LogFormat      string   `yaml:"log_format"`
	Routes         []Route  `yaml:"routes"`
}

// Gatehouse says which gatehouse issued the tokens and how the gateway
// authenticates to it.
type Gatehouse struct {
	// Issuer is gatehouse's issuer URL, exactly as in the tokens' "iss".
	Issuer string `yaml:"issuer"`
	// URL is where the gateway reaches gatehouse, when that is not the
	// issuer URL (an internal address). When set, the JWKS is read from
	// URL/.well-known/jwks.json instead of by metadata discovery.
	URL string `yaml:"url"`
	// ClientID and one of ClientSecret or ClientSecretFile are a client
	// holding a grant on urn:gatehouse:introspect.
	ClientID         string `yaml:"client_id"`
	ClientSecret     string `yaml:"client_secret"`
	ClientSecretFile string `yaml:"client_secret_file"`
}

// TLS is the gateway's own certificate, when it terminates TLS.
type TLS struct {
	CertFile string `yaml:"cert_file"` // PEM, the leaf first, then its chain
	KeyFile  string `yaml:"key_file"`
}

// Timeouts bound every connection the gateway serves or makes.
type Timeouts struct {
	ReadHeader time.Duration `yaml:"read_header"`
	Read       time.Duration `yaml:"read"`
	Write      time.Duration `yaml:"write"`
	Idle       time.Duration `yaml:"idle"`
	// Upstream bounds the wait for an upstream's response headers.
	Upstream time.Duration `yaml:"upstream"`
	// Gatehouse bounds one introspection or revocation-list call.
	Gatehouse time.Duration `yaml:"gatehouse"`
	// Shutdown bounds the wait for requests in flight on SIGTERM.
	Shutdown time.Duration `yaml:"shutdown"`
}

// Route sends the requests under one path, or to one per-service path
// /{service}/v1/{apiKey}/..., to an upstream once their token passes.
type Route struct {
	// Name labels the route in logs; default the path or service.
	Name string `yaml:"name"`
	// Path is a path prefix such as /orders/. Exactly one of Path and
	// Service is set.
	Path string `yaml:"path"`
	// Service matches /{service}/v1/{apiKey}/...: the token must have been
	// issued for this service, and for the environment whose api_key is
	// in the path.
	Service string `yaml:"service"`
	// Upstream is the base URL requests are sent to.
	Upstream string `yaml:"upstream"`
	// Audience is the upstream API's audience URI ({tenant} templates
	// allowed): tokens for any other audience are refused.
	Audience string `yaml:"audience"`
	// Scopes must all be granted by the token.
	Scopes []string `yaml:"scopes"`
	// ForwardAuthorization passes the caller's Authorization header on;
	// default true.
	ForwardAuthorization *bool `yaml:"forward_authorization"`
	// StripPrefix removes the matched prefix (the path, or
	// /{service}/v1/{apiKey}) before forwarding.
	StripPrefix bool `yaml:"strip_prefix"`
	// ForwardTokenRequests sends POST /{service}/v1/oauth2/token to
	// gatehouse unchecked, so clients can use one host for tokens and
	// calls as the gateway document does. Service routes only.
	ForwardTokenRequests bool `yaml:"forward_token_requests"`
	// RequireDPoP admits only DPoP-bound tokens (RFC 9449). Bound tokens
	// are held to their binding on every route.
	RequireDPoP bool `yaml:"require_dpop"`
}

// Defaults applied by Validate to zero values.
const (
	DefaultIntrospectionCacheTTL  = 30 * time.Second
	DefaultInactiveCacheTTL       = 5 * time.Second
	DefaultRevocationPollInterval = 2 * time.Second
	DefaultMaxHeaderBytes         = 32 << 10
)

// DefaultTimeouts are used for the timeouts a file leaves out.
var DefaultTimeouts = Timeouts{
	ReadHeader: 5 * time.Second,
	Read:       30 * time.Second,
	Write:      60 * time.Second,
	Idle:       120 * time.Second,
	Upstream:   30 * time.Second,
	Gatehouse:  5 * time.Second,
	Shutdown:   20 * time.Second,
}

// LoadFile reads and validates a configuration file.
func LoadFile(name string) (Config, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return Config{}, fmt.Errorf("gateway config: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return Config{}, fmt.Errorf("gateway config %s: %w", name, err)
	}
	return cfg, nil
}

// Parse decodes YAML (unknown fields are an error) and validates it.
func Parse(data []byte) (Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return Config{}, errors.New("the file is empty")
		}
		return Config{}, err
	}
	return cfg, cfg.Validate()
}

// Validate checks the whole configuration, says in plain words what is
// wrong, and fills the defaults.
func (c *Config) Validate() error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen %q is not host:port (example: 127.0.0.1:8443)", c.Listen)
	}
	c.Gatehouse.validate(bad)
	if c.PublicURL != "" && !isHTTPURL(c.PublicURL) {
		bad("public_url %q must be an http(s) URL without query or fragment", c.PublicURL)
	}
	c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	c.validateCertificates(bad)
	if c.ResourceMetadata && c.PublicURL == "" {
		bad("resource_metadata needs public_url: the documents name resources by the gateway's public URL")
	}
	defaultDuration(&c.IntrospectionCacheTTL, DefaultIntrospectionCacheTTL, "introspection_cache_ttl", bad)
	defaultDuration(&c.InactiveCacheTTL, DefaultInactiveCacheTTL, "inactive_cache_ttl", bad)
	defaultDuration(&c.RevocationPollInterval, DefaultRevocationPollInterval, "revocation_poll_interval", bad)
	if c.RevocationPollInterval < 100*time.Millisecond {
		bad("revocation_poll_interval must be at least 100ms")
	}
	switch {
	case c.MaxHeaderBytes == 0:
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	case c.MaxHeaderBytes < 1024 || c.MaxHeaderBytes > 1<<20:
		bad("max_header_bytes must be between 1024 and 1048576")
	}
	t, d := &c.Timeouts, DefaultTimeouts
	for _, x := range []struct {
		v    *time.Duration
		def  time.Duration
		name string
	}{
		{&t.ReadHeader, d.ReadHeader, "read_header"}, {&t.Read, d.Read, "read"}, {&t.Write, d.Write, "write"},
		{&t.Idle, d.Idle, "idle"}, {&t.Upstream, d.Upstream, "upstream"}, {&t.Gatehouse, d.Gatehouse, "gatehouse"},
		{&t.Shutdown, d.Shutdown, "shutdown"},
	} {
		defaultDuration(x.v, x.def, "timeouts."+x.name, bad)
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.LogFormat == "" {
		c.LogFormat = "json"
	}
	if len(c.Routes) == 0 {
		bad("routes: at least one route is needed")
	}
	seen := map[string]bool{}
	for i := range c.Routes {
		r := &c.Routes[i]
		r.validate(fmt.Sprintf("routes[%d]", i), bad)
		key := "path " + r.Path
		if r.Service != "" {
			key = "service " + r.Service
		}
		if seen[key] {
			bad("routes[%d]: a route for %s is already defined", i, key)
		}
		seen[key] = true
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid gateway configuration:\n  - %s", strings.Join(problems, "\n  - "))
	}
	return nil
}

func defaultDuration(v *time.Duration, def time.Duration, name string, bad func(string, ...any)) {
	switch {
	case *v == 0:
		*v = def
	case *v < 0:
		bad("%s must not be negative", name)
	}
}

// validateCertificates checks where client certificates come from: the
// gateway's own TLS listener, or a header from trusted proxies.
func (c *Config) validateCertificates(bad func(string, ...any)) {
	if c.TLS != nil && (c.TLS.CertFile == "" || c.TLS.KeyFile == "") {
		bad("tls needs both cert_file and key_file")
	}
	for _, err := range proxy.CheckSettings("trusted_proxies", c.TrustedProxies, c.ClientCertHeader) {
		bad("%v", err)
	}
}

func (g *Gatehouse) validate(bad func(string, ...any)) {
	if g.Issuer == "" {
		bad("gatehouse.issuer is required: gatehouse's issuer URL, as in the tokens' iss claim")
	} else if !isHTTPURL(g.Issuer) {
		bad("gatehouse.issuer %q must be an http(s) URL without query or fragment", g.Issuer)
	}
	if g.URL != "" && !isHTTPURL(g.URL) {
		bad("gatehouse.url %q must be an http(s) URL without query or fragment", g.URL)
	}
	if g.ClientID == "" {
		bad("gatehouse.client_id is required: a client with a grant on urn:gatehouse:introspect")
	}
	if (g.ClientSecret == "") == (g.ClientSecretFile == "") {
		bad("gatehouse needs exactly one of client_secret and client_secret_file")
	}
}

// BaseURL is where the gateway calls gatehouse.
func (g *Gatehouse) BaseURL() string {
	if g.URL != "" {
		return strings.TrimSuffix(g.URL, "/")
	}
	return strings.TrimSuffix(g.Issuer, "/")
}

// Secret returns the client secret, reading the file if one is named.
func (g *Gatehouse) Secret() (string, error) {
	if g.ClientSecretFile == "" {
		return g.ClientSecret, nil
	}
	b, err := os.ReadFile(g.ClientSecretFile)
	if err != nil {
		return "", fmt.Errorf("gatehouse.client_secret_file: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("gatehouse.client_secret_file %s is empty", g.ClientSecretFile)
	}
	return s, nil
}

func (r *Route) validate(at string, bad func(string, ...any)) {
	switch {
	case (r.Path == "") == (r.Service == ""):
		bad("%s: set exactly one of path and service", at)
	case r.Path != "":
		if !strings.HasPrefix(r.Path, "/") || cleanPath(r.Path) != r.Path || strings.ContainsAny(r.Path, "?#%") {
			bad("%s: path %q must be a clean absolute path such as /orders/", at, r.Path)
		}
		if r.ForwardTokenRequests {
			bad("%s: forward_token_requests applies to service routes only", at)
		}
	default:
		if !store.ValidSlug(r.Service) || slices.Contains(store.ReservedServices, r.Service) {
			bad("%s: service %q is not a valid service name (lower-case letters, digits and '-'; not one of %s)",
				at, r.Service, strings.Join(store.ReservedServices, ", "))
		}
	}
	if r.Name == "" {
		r.Name = r.Path + r.Service
	}
	if r.Upstream == "" {
		bad("%s: upstream is required", at)
	} else if !isHTTPURL(r.Upstream) {
		bad("%s: upstream %q must be an http(s) URL without query or fragment", at, r.Upstream)
	}
	if u, err := url.Parse(r.Audience); r.Audience == "" || err != nil || !u.IsAbs() {
		bad("%s: audience %q must be the upstream API's absolute audience URI", at, r.Audience)
	}
	for _, s := range r.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\"\\") {
			bad("%s: scope %q is not a scope name", at, s)
		}
	}
	if r.ForwardAuthorization == nil {
		yes := true
		r.ForwardAuthorization = &yes
	}
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		u.RawQuery == "" && u.Fragment == "" && u.User == nil
}

// cleanPath is path.Clean keeping a trailing slash.
func cleanPath(p string) string {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}
