package console

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/store"
)

// stateOrder sorts keys as they live: next, current, retired.
var stateOrder = map[string]int{store.KeyNext: 0, store.KeyCurrent: 1, store.KeyRetired: 2}

func (h *Handler) keys(w http.ResponseWriter, r *http.Request, s *session) error {
	ks, err := h.keyRing.List(r.Context())
	if err != nil {
		return err
	}
	slices.SortStableFunc(ks, func(a, b store.SigningKey) int {
		if d := stateOrder[a.State] - stateOrder[b.State]; d != 0 {
			return d
		}
		return strings.Compare(a.Alg, b.Alg)
	})
	p := h.page(s, "keys", "Signing keys", ks)
	if r.URL.Query().Has("rotated") {
		p.Notice = "New keys were added in state next: they are published now and start signing after the publish delay."
	}
	h.render(w, http.StatusOK, "keys", p)
	return nil
}

func (h *Handler) rotateKeys(w http.ResponseWriter, r *http.Request, s *session) error {
	if _, err := h.service.RotateKeys(r.Context(), h.keyRing); err != nil {
		return err
	}
	return seeOther(w, r, "/console/keys?rotated")
}

// auditLimit is how many events one audit page shows.
const auditLimit = 200

// auditData is the audit page: its filter and the events found.
type auditData struct {
	Client string
	Since  string
	Events []auditRow
	Limit  int
}

func (h *Handler) audit(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	d := auditData{Client: strings.TrimSpace(q.Get("client")), Since: strings.TrimSpace(q.Get("since")), Limit: auditLimit}
	if !q.Has("since") {
		d.Since = "24h"
	}
	p := h.page(s, "audit", "Audit log", &d)
	f := store.AuditFilter{ClientID: d.Client, Limit: auditLimit}
	if d.Since != "" {
		since, err := admin.ParseDuration(d.Since)
		if err != nil || since <= 0 {
			p.Errors["since"] = "Write a period like 1h, 24h or 7d, or leave it empty for all time."
			h.render(w, http.StatusBadRequest, "audit", p)
			return nil
		}
		f.Since = h.now().Add(-since)
	}
	events, err := h.service.Store().ListAudit(r.Context(), f)
	if err != nil {
		return err
	}
	d.Events = h.auditRows(events)
	if jti := q.Get("revoked"); jti != "" {
		p.Notice = "Token " + jti + " was revoked: introspection and gateways refuse it from now on; APIs that check JWTs offline accept it until it expires."
	}
	h.render(w, http.StatusOK, "audit", p)
	return nil
}
