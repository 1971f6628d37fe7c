package token

import (
	"log/slog"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/oauth"
)

// Handler serves POST /oauth/token.
type Handler struct {
	Issuer *Issuer
	Log    *slog.Logger
}

// ServeHTTP answers one token request: the documents' four fields with
// Cache-Control: no-store, or an RFC 6749 §5.2 error.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		oauth.WriteError(w, oauth.ErrMethodNotAllowed())
		return
	}
	req, err := oauth.ParseTokenRequest(w, r, oauth.ParseOptions{})
	if err != nil {
		h.fail(w, r, req, err)
		return
	}
	resp, _, err := h.Issuer.Token(r.Context(), req)
	if err != nil {
		h.fail(w, r, req, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	oauth.WriteJSON(w, http.StatusOK, resp)
}

// fail writes the error and logs it without any credential: client ids are
// not secret, secrets and tokens never appear.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, req oauth.TokenRequest, err error) {
	e := oauth.AsError(err)
	level := slog.LevelInfo
	if e.Status >= 500 {
		level = slog.LevelError
	}
	h.Log.LogAttrs(r.Context(), level, "token request refused",
		slog.String("error", e.Code), slog.Int("status", e.Status),
		slog.String("client_id", logSafe(req.ClientID)), slog.Any("cause", e.Cause))
	oauth.WriteError(w, e)
}

// logSafe bounds what a caller-chosen string may put in a log line.
func logSafe(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
