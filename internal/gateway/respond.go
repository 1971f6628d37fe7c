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
// challenge and the same fields as JSON. A missing token gets a bare
// challenge with the realm only.
func writeRefusal(w http.ResponseWriter, realm string, r *refusal) {
	bearer.WriteChallenge(w, r.status, bearer.Challenge{Scheme: bearer.SchemeBearer, Realm: realm,
		Code: r.code, Description: r.description, Scope: r.scope})
}
