package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/store"
)

// auditRow is an audit event as the audit view shows it: an issuance
// carries its token's jti, whether that token still lives, and whether it
// was revoked, so the view offers a Revoke button where one applies.
type auditRow struct {
	store.AuditEvent
	JTI     string
	Live    bool
	Revoked bool
}

func (h *Handler) auditRows(events []store.AuditEvent) []auditRow {
	now := h.now().Unix()
	rows := make([]auditRow, len(events))
	for i, e := range events {
		rows[i].AuditEvent = e
		if e.Kind != store.AuditTokenIssued {
			continue
		}
		var d struct {
			JTI string `json:"jti"`
			Exp int64  `json:"exp"`
		}
		if json.Unmarshal([]byte(e.Detail), &d) == nil && d.JTI != "" {
			rows[i].JTI, rows[i].Live, rows[i].Revoked = d.JTI, d.Exp > now, h.revoked.Revoked(d.JTI)
		}
	}
	return rows
}

// revokeToken is the audit view's Revoke button: it revokes the token by
// its jti (admin.Service.RevokeToken) and returns to the view, keeping
// its filter.
func (h *Handler) revokeToken(w http.ResponseWriter, r *http.Request, s *session) error {
	jti := r.PostForm.Get("jti")
	_, err := h.service.RevokeToken(r.Context(), h.revoked, jti)
	switch {
	case errors.Is(err, admin.ErrInvalid):
		h.message(w, s, http.StatusBadRequest, "Not revoked", sentence(strings.TrimPrefix(err.Error(), admin.ErrInvalid.Error()+": ")))
		return nil
	case errors.Is(err, store.ErrNotFound):
		h.message(w, s, http.StatusNotFound, "Token not found", "No token with that jti was found in the audit log within the longest token lifetime.")
		return nil
	case err != nil:
		return err
	}
	back := url.Values{"revoked": {jti}}
	for _, k := range []string{"client", "since"} {
		if v := r.PostForm.Get(k); v != "" {
			back.Set(k, v)
		}
	}
	return seeOther(w, r, "/console/audit?"+back.Encode())
}
