package gateway

import (
	"encoding/json"
	"net/http"
	"strings"
)

// writeError writes the gateway's own JSON error, in gatehouse's shape
// {"error","error_description"}.
func writeError(w http.ResponseWriter, status int, code, description string) {
	body := struct {
		Error       string `json:"error,omitempty"`
		Description string `json:"error_description"`
	}{code, description}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// writeRefusal answers an RFC 6750 §3 refusal with its WWW-Authenticate
// challenge and the same fields as JSON. A missing token gets a bare
// challenge with the realm only.
func writeRefusal(w http.ResponseWriter, realm string, r *refusal) {
	var params []string
	add := func(name, value string) {
		if value != "" {
			params = append(params, name+`="`+quotable(value)+`"`)
		}
	}
	add("realm", realm)
	add("error", r.code)
	if r.code != "" {
		add("error_description", r.description)
	}
	add("scope", r.scope)
	w.Header().Set("WWW-Authenticate", "Bearer "+strings.Join(params, ", "))
	writeError(w, r.status, r.code, r.description)
}

// quotable drops what RFC 6750 §3 does not allow in a quoted value.
func quotable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}
