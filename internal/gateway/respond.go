package gateway

import (
	"net/http"

	"github.com/gatehouse/gatehouse/internal/bearer"
)

// writeError writes the gateway's own JSON error, in gatehouse's shape
// {"error","error_description"}.
func writeError(w http.ResponseWriter, status int, code, description string) {
	bearer.WriteError(w, status, code, description)
}

// writeRefusal answers an RFC 6750 §3 refusal with its WWW-Authenticate
// challenges and the same fields as JSON; the realm is the route's
// audience. A 400 or 401 names every scheme the route accepts, the one the
// request used (scheme) first and with the error, as RFC 9449 §7.1 has
// it; a missing token gets bare challenges. A 403 names only the scheme
// the token came in.
func (g *Gateway) writeRefusal(w http.ResponseWriter, m match, scheme bearer.Scheme, r *refusal) {
	ch := bearer.Challenge{Scheme: scheme, Realm: m.route.cfg.Audience, Code: r.code, Description: r.description,
		Scope: r.scope, ResourceMetadata: g.metadataURL(m)}
	if r.status != http.StatusForbidden {
		m.route.binding.WriteChallenges(w, r.status, ch)
		return
	}
	if ch.Scheme == "" {
		ch.Scheme = bearer.SchemeBearer
	}
	bearer.WriteChallenge(w, r.status, ch)
}
