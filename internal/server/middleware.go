package server

import (
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/metrics"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/proxy"
)

// observe is the access middleware of gatehouse's listeners, feeding the
// latency histogram too.
func observe(log *slog.Logger, m *metrics.Metrics, proxies *proxy.Trust, next http.Handler) http.Handler {
	return logging.Access{
		Log:    log,
		Remote: proxies.ClientAddr,
		Done:   func(r *http.Request, status int, d time.Duration) { m.Observe(routeOf(r.URL.Path), status, d) },
		Fail:   func(w http.ResponseWriter) { oauth.WriteError(w, oauth.ErrServerError(nil)) },
	}.Wrap(next)
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

func (l *legacyHosts) wrap(proxies *proxy.Trust, next http.Handler) http.Handler {
	if len(l.names) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := proxies.Host(r); l.names[h] {
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

// canonicalPaths answers a request for a path that is not in canonical
// form (//, /./, /../) with 404 itself, where http.ServeMux would redirect
// to the cleaned path with the query string copied into Location: the
// per-service endpoint takes credentials in the query, and a redirect
// must never carry them.
func canonicalPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The escaped path: an admin route may hold an escaped audience
		// (https:%2F%2F...), which is canonical as sent.
		if p := r.URL.EscapedPath(); p != "" && p != "/" && !canonical(p) {
			oauth.WriteJSON(w, http.StatusNotFound, map[string]string{"error": "not_found", "error_description": "No such endpoint."})
			return
		}
		if r.URL.RawQuery != "" {
			w = &noQueryRedirects{ResponseWriter: w, query: r.URL.RawQuery}
		}
		next.ServeHTTP(w, r)
	})
}

// canonical reports whether p is path.Clean(p), keeping a trailing slash,
// without building the cleaned path with its slash put back.
func canonical(p string) bool {
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		return len(p) == len(clean)+1 && strings.HasPrefix(p, clean)
	}
	return clean == p
}

// noQueryRedirects drops the request's own query string from a redirect's
// Location: http.ServeMux redirects /x to /x/ copying the query, which
// may hold credentials (the per-service endpoint takes them there). A
// redirect that builds its own query (the console's ?next=) is left alone.
type noQueryRedirects struct {
	http.ResponseWriter
	query string
	drop  bool // the body of a rewritten redirect, which repeats the URL
}

func (n *noQueryRedirects) WriteHeader(status int) {
	if status >= 300 && status < 400 {
		if loc := n.Header().Get("Location"); strings.HasSuffix(loc, "?"+n.query) {
			n.Header().Set("Location", strings.TrimSuffix(loc, "?"+n.query))
			n.Header().Del("Content-Type")
			n.drop = true
		}
	}
	n.ResponseWriter.WriteHeader(status)
}

func (n *noQueryRedirects) Write(b []byte) (int, error) {
	if n.drop {
		return len(b), nil
	}
	return n.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (n *noQueryRedirects) Unwrap() http.ResponseWriter { return n.ResponseWriter }
