package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/logging"
)

// accessEntry collects what the access-log line says about a request.
type accessEntry struct {
	route    string
	clientID string
}

// ServeHTTP gives the request an id, serves it, and writes one access-log
// line with the path only: query strings carry credentials on forwarded
// token requests, and headers carry tokens.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := r.Header.Get("X-Request-Id")
	if !logging.SafeRequestID(id) {
		id = logging.NewRequestID()
	}
	ctx := logging.WithRequestID(r.Context(), id)
	w.Header().Set("X-Request-Id", id)
	sw := &statusWriter{ResponseWriter: w}
	var e accessEntry
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			g.log.ErrorContext(ctx, "panic serving request", "panic", p, "path", logPath(r.URL.Path))
			if sw.status == 0 {
				writeError(sw, http.StatusInternalServerError, "server_error", "The gateway failed.")
			}
		}
		remote, _, _ := net.SplitHostPort(r.RemoteAddr)
		g.log.LogAttrs(ctx, slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", logPath(r.URL.Path)),
			slog.String("route", e.route), slog.String("client_id", e.clientID),
			slog.Int("status", sw.status), slog.Int64("bytes", sw.bytes),
			slog.Float64("ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("remote", remote))
	}()
	g.serve(sw, r.WithContext(ctx), id, &e)
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, requestID string, e *accessEntry) {
	removeGatehouseHeaders(r.Header)
	if cleanPath(r.URL.Path) != r.URL.Path {
		writeError(w, http.StatusBadRequest, "invalid_request", "The request path is not in canonical form.")
		return
	}
	m, ok := g.router.match(r.URL.Path)
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "No route for this path.")
		return
	}
	rt := m.route
	e.route = rt.cfg.Name
	ctx := r.Context()
	if m.tokenRequest {
		fwd := &forward{requestID: requestID}
		rt.tokenProxy.ServeHTTP(w, r.WithContext(context.WithValue(ctx, forwardKey{}, fwd)))
		return
	}
	realm := rt.cfg.Audience
	token, present, malformed := bearerToken(r)
	switch {
	case malformed:
		writeRefusal(w, realm, &refusal{status: http.StatusBadRequest, code: "invalid_request",
			description: "malformed Authorization header"})
		return
	case !present:
		writeRefusal(w, realm, &refusal{status: http.StatusUnauthorized, description: "a bearer access token is required"})
		return
	}
	p, ref, err := g.authenticate(ctx, rt, token)
	if err != nil {
		if errors.Is(err, errUnavailable) {
			g.log.WarnContext(ctx, "cannot introspect a token", "route", rt.cfg.Name, "err", err)
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "The token cannot be checked now; try again.")
			return
		}
		w.WriteHeader(499) // the caller went away; for the access log only
		return
	}
	if ref == nil {
		e.clientID = p.ClientID
		ref = authorize(m, p)
	}
	if ref != nil {
		writeRefusal(w, realm, ref)
		return
	}
	fwd := &forward{principal: p, requestID: requestID}
	if rt.cfg.StripPrefix {
		fwd.strip = true
		if fwd.path, fwd.rawPath, ok = stripped(r.URL, m.prefix); !ok {
			writeError(w, http.StatusNotFound, "not_found", "No route for this path.")
			return
		}
	}
	rt.proxy.ServeHTTP(w, r.WithContext(context.WithValue(ctx, forwardKey{}, fwd)))
}

// logPath bounds a caller-chosen path in a log line.
func logPath(p string) string {
	if len(p) > 200 {
		return p[:200] + "..."
	}
	return p
}
