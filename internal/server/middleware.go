package server

import (
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/metrics"
	"github.com/gatehouse/gatehouse/internal/oauth"
)

// observe is the access middleware of gatehouse's listeners, feeding the
// latency histogram too.
func observe(log *slog.Logger, m *metrics.Metrics, proxies *proxyTrust, next http.Handler) http.Handler {
	return logging.Access{
		Log:    log,
		Remote: proxies.clientAddr,
		Done:   func(r *http.Request, status int, d time.Duration) { m.Observe(routeOf(r.URL.Path), status, d) },
		Fail:   func(w http.ResponseWriter) { oauth.WriteError(w, oauth.ErrServerError(nil)) },
	}.Wrap(next)
}

// proxyTrust decides whose X-Forwarded-* headers count.
type proxyTrust struct{ prefixes []netip.Prefix }

func newProxyTrust(cidrs []string) *proxyTrust {
	t := &proxyTrust{}
	for _, c := range cidrs {
		if p, err := netip.ParsePrefix(c); err == nil {
			t.prefixes = append(t.prefixes, p.Masked())
		} else if a, err := netip.ParseAddr(c); err == nil {
			t.prefixes = append(t.prefixes, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return t
}

func (t *proxyTrust) trusted(r *http.Request) bool {
	if len(t.prefixes) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	addr := ap.Addr().Unmap()
	return slices.ContainsFunc(t.prefixes, func(p netip.Prefix) bool { return p.Contains(addr) })
}

// clientAddr is the caller's address: the connection's peer, or the last
// untrusted hop of X-Forwarded-For when the peer is a trusted proxy.
func (t *proxyTrust) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if !t.trusted(r) {
		return host
	}
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !slices.ContainsFunc(t.prefixes, func(p netip.Prefix) bool { return p.Contains(a.Unmap()) }) {
			return a.Unmap().String()
		}
	}
	return host
}

// host is the host name the request was sent to, from X-Forwarded-Host only
// behind a trusted proxy; lower-case, without port.
func (t *proxyTrust) host(r *http.Request) string {
	h := r.Host
	if t.trusted(r) {
		if fh := r.Header.Get("X-Forwarded-Host"); fh != "" {
			h, _, _ = strings.Cut(fh, ",")
			h = strings.TrimSpace(h)
		}
	}
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

// legacyHosts marks answers on an old issuer host name as deprecated
// (RFC 9745 Deprecation, RFC 8594 Sunset) and points to the successor.
type legacyHosts struct {
	names       map[string]bool
	deprecation string
	sunset      string
	successor   string
	onUse       func(host string)
}

func (l *legacyHosts) wrap(proxies *proxyTrust, next http.Handler) http.Handler {
	if len(l.names) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := proxies.host(r); l.names[h] {
			w.Header().Set("Deprecation", l.deprecation)
			w.Header().Set("Sunset", l.sunset)
			w.Header().Set("Link", `<`+l.successor+`>; rel="successor-version"`)
			if l.onUse != nil {
				l.onUse(h)
			}
		}
		next.ServeHTTP(w, r)
	})
}
