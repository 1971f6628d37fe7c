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

// statusWriter remembers the status for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe gives each request an id, recovers panics into a JSON 500, and
// writes one access-log line. It logs the path only: query strings carry
// credentials on the per-service endpoint, and headers carry tokens.
func observe(log *slog.Logger, m *metrics.Metrics, proxies *proxyTrust, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !logging.SafeRequestID(id) {
			id = logging.NewRequestID()
		}
		ctx := logging.WithRequestID(r.Context(), id)
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(ctx, "panic serving request", "panic", p, "path", r.URL.Path)
				if sw.status == 0 {
					oauth.WriteError(sw, oauth.ErrServerError(nil))
				}
			}
			elapsed := time.Since(start)
			m.Observe(routeOf(r.URL.Path), sw.status, elapsed)
			log.LogAttrs(ctx, slog.LevelInfo, "request",
				slog.String("method", r.Method), slog.String("path", logPath(r.URL.Path)),
				slog.Int("status", sw.status), slog.Int("bytes", sw.bytes),
				slog.Float64("ms", float64(elapsed.Microseconds())/1000),
				slog.String("remote", proxies.clientAddr(r)))
		}()
		next.ServeHTTP(sw, r.WithContext(ctx))
	})
}

func logPath(p string) string {
	if len(p) > 200 {
		return p[:200] + "..."
	}
	return p
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
