package admin

import (
	"net/http"

	"github.com/gatehouse/gatehouse/internal/store"
)

// mountTrusts adds the routes of tenants' trusts and their rules (DESIGN
// §9); r and w guard reads and writes as the other routes are guarded.
func (h *Handler) mountTrusts(mux *http.ServeMux, r, w func(handlerFunc) http.Handler) {
	mux.Handle("GET /admin/v1/trusts", r(h.listAllTrusts))
	mux.Handle("GET /admin/v1/tenants/{tenant}/trusts", r(h.listTrusts))
	mux.Handle("POST /admin/v1/tenants/{tenant}/trusts", w(h.createTrust))
	mux.Handle("GET /admin/v1/tenants/{tenant}/trusts/{name}", r(h.getTrust))
	mux.Handle("PATCH /admin/v1/tenants/{tenant}/trusts/{name}", w(h.updateTrust))
	mux.Handle("DELETE /admin/v1/tenants/{tenant}/trusts/{name}", w(h.deleteTrust))
	mux.Handle("GET /admin/v1/tenants/{tenant}/trusts/{name}/rules", r(h.listRules))
	mux.Handle("POST /admin/v1/tenants/{tenant}/trusts/{name}/rules", w(h.addRule))
	mux.Handle("DELETE /admin/v1/tenants/{tenant}/trusts/{name}/rules/{rule}", w(h.deleteRule))
}

func trustViews(ts []store.Trust) []TrustView {
	out := make([]TrustView, len(ts))
	for i, t := range ts {
		out[i] = trustView(t)
	}
	return out
}

func (h *Handler) listAllTrusts(w http.ResponseWriter, r *http.Request) error {
	ts, err := h.service.ListTrusts(r.Context(), r.URL.Query().Get("tenant"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, trustViews(ts))
}

func (h *Handler) listTrusts(w http.ResponseWriter, r *http.Request) error {
	ts, err := h.service.ListTrusts(r.Context(), r.PathValue("tenant"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, trustViews(ts))
}

func (h *Handler) createTrust(w http.ResponseWriter, r *http.Request) error {
	var in TrustInput
	if err := decode(r, &in); err != nil {
		return err
	}
	t, err := h.service.CreateTrust(r.Context(), in.Trust(r.PathValue("tenant")))
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, trustView(t))
}

func (h *Handler) getTrust(w http.ResponseWriter, r *http.Request) error {
	t, err := h.service.GetTrust(r.Context(), r.PathValue("tenant"), r.PathValue("name"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, trustView(t))
}

func (h *Handler) updateTrust(w http.ResponseWriter, r *http.Request) error {
	var in TrustInput
	if err := decode(r, &in); err != nil {
		return err
	}
	switch {
	case in.Name != "":
		return invalid("name cannot change: create a trust under the new name and delete this one")
	case in.Rules != nil:
		return invalid("rules change through POST .../rules and DELETE .../rules/{rule}, not here")
	}
	t, err := h.service.UpdateTrust(r.Context(), r.PathValue("tenant"), r.PathValue("name"), in.Patch())
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, trustView(t))
}

func (h *Handler) deleteTrust(w http.ResponseWriter, r *http.Request) error {
	if err := h.service.DeleteTrust(r.Context(), r.PathValue("tenant"), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) listRules(w http.ResponseWriter, r *http.Request) error {
	rs, err := h.service.ListRules(r.Context(), r.PathValue("tenant"), r.PathValue("name"))
	if err != nil {
		return err
	}
	out := make([]RuleView, len(rs))
	for i, rule := range rs {
		out[i] = ruleView(rule)
	}
	return reply(w, http.StatusOK, out)
}

func (h *Handler) addRule(w http.ResponseWriter, r *http.Request) error {
	var in RuleInput
	if err := decode(r, &in); err != nil {
		return err
	}
	rule, err := h.service.AddRule(r.Context(), r.PathValue("tenant"), r.PathValue("name"), in.Rule())
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, ruleView(rule))
}

func (h *Handler) deleteRule(w http.ResponseWriter, r *http.Request) error {
	if err := h.service.DeleteRule(r.Context(), r.PathValue("tenant"), r.PathValue("name"), r.PathValue("rule")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
