package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/bearer"
	"github.com/gatehouse/gatehouse/internal/logging"
)

// ServeHTTP serves one request behind the access middleware (request id,
// panic recovery, one access-log line with the path only: query strings
// carry credentials on forwarded token requests, and headers carry tokens).
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.access.ServeHTTP(w, r)
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request) {
	requestID := logging.RequestID(r.Context())
	certHeader := ""
	if g.certs.Header != "" && !g.certs.Proxies.Trusted(r) {
		// Only a trusted proxy vouches for a certificate; an upstream
		// that reads the header behind the gateway must not get a
		// caller's own.
		certHeader = g.certs.Header
	}
	removeHeaders(r.Header, certHeader)
	if cleanPath(r.URL.Path) != r.URL.Path {
		writeError(w, http.StatusBadRequest, "invalid_request", "The request path is not in canonical form.")
		return
	}
	if g.serveResourceMetadata(w, r) {
		return
	}
	m, ok := g.router.match(r.URL.Path)
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "No route for this path.")
		return
	}
	rt := m.route
	logging.AddAccessAttrs(r.Context(), slog.String("route", rt.cfg.Name))
	ctx := r.Context()
	if m.tokenRequest {
		fwd := &forward{requestID: requestID}
		rt.tokenProxy.ServeHTTP(w, r.WithContext(context.WithValue(ctx, forwardKey{}, fwd)))
		return
	}
	token, present, malformed := accessToken(r)
	switch {
	case malformed:
		g.writeRefusal(w, m, token.Scheme, &refusal{status: http.StatusBadRequest, code: "invalid_request",
			description: "malformed Authorization header"})
		return
	case !present:
		g.writeRefusal(w, m, "", &refusal{status: http.StatusUnauthorized, description: "a bearer access token is required"})
		return
	}
	p, ref, err := g.authenticate(ctx, rt, token.Value)
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
		logging.AddAccessAttrs(r.Context(), slog.String("client_id", p.ClientID))
		ref = g.checkBinding(r, rt, token, p)
	}
	if ref == nil {
		ref = authorize(m, p)
	}
	if ref != nil {
		g.writeRefusal(w, m, token.Scheme, ref)
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

// checkBinding holds a bound token to its binding (a DPoP proof of its key
// for this request, or its client certificate), and refuses a DPoP-bound
// token sent as Bearer. A refusal is logged with its reason, never the
// token or the proof: a bound token presented without its key is what a
// stolen one looks like.
func (g *Gateway) checkBinding(r *http.Request, rt *route, token bearer.Token, p *principal) *refusal {
	ref := rt.binding.Check(r, token, p.Confirmation)
	if ref == nil {
		return nil
	}
	g.log.InfoContext(r.Context(), "refused a token its request does not hold", "route", rt.cfg.Name,
		"client_id", p.ClientID, "code", ref.Code, "reason", ref.Err.Error())
	return &refusal{status: http.StatusUnauthorized, code: ref.Code, description: ref.Description}
}
