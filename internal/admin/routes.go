package admin

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
)

func reply(w http.ResponseWriter, status int, v any) error {
	oauth.WriteJSON(w, status, v)
	return nil
}

func (h *Handler) listTenants(w http.ResponseWriter, r *http.Request) error {
	ts, err := h.service.store.ListTenants(r.Context())
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, ts)
}

func (h *Handler) createTenant(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	t, err := h.service.CreateTenant(r.Context(), in.ID, in.Name)
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, t)
}

func (h *Handler) getTenant(w http.ResponseWriter, r *http.Request) error {
	if err := checkLookup("tenant", r.PathValue("id")); err != nil {
		return err
	}
	t, err := h.service.store.GetTenant(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, t)
}

func (h *Handler) updateTenant(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name   *string       `json:"name"`
		Limits *store.Limits `json:"limits"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	t, err := h.service.UpdateTenant(r.Context(), r.PathValue("id"), in.Name, in.Limits)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, t)
}

// cascade reads the ?cascade= of a delete.
func cascade(r *http.Request) (bool, error) {
	v := r.URL.Query().Get("cascade")
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, invalid("cascade must be true or false")
	}
	return b, nil
}

func (h *Handler) deleteTenant(w http.ResponseWriter, r *http.Request) error {
	c, err := cascade(r)
	if err != nil {
		return err
	}
	d, err := h.service.DeleteTenant(r.Context(), r.PathValue("id"), c)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, deletedView(d))
}

func (h *Handler) deleteEnvironment(w http.ResponseWriter, r *http.Request) error {
	c, err := cascade(r)
	if err != nil {
		return err
	}
	d, err := h.service.DeleteEnvironment(r.Context(), r.PathValue("tenant"), r.PathValue("id"), c)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, deletedView(d))
}

// deletedView is what a delete removed, with empty lists rather than null.
func deletedView(d store.Deleted) store.Deleted {
	if d.Clients == nil {
		d.Clients = []string{}
	}
	if d.Environments == nil {
		d.Environments = []string{}
	}
	return d
}

func (h *Handler) listAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := store.AuditFilter{ClientID: q.Get("client"), Kind: q.Get("kind"), HideAdminTokens: q.Get("admin_tokens") == "hide"}
	if checkLookup("client", f.ClientID) != nil || checkLookup("kind", f.Kind) != nil {
		return invalid("client and kind must be printable text")
	}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return invalid("%s must be an RFC 3339 time, like 2026-11-22T10:00:00Z", name)
			}
			*dst = t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return invalid("limit must be a positive number")
		}
		f.Limit = n
	}
	events, err := h.service.store.ListAudit(r.Context(), f)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, events)
}

func (h *Handler) listEnvironments(w http.ResponseWriter, r *http.Request) error {
	if checkLookup("tenant", r.URL.Query().Get("tenant")) != nil {
		return reply(w, http.StatusOK, []store.Environment{})
	}
	es, err := h.service.store.ListEnvironments(r.Context(), r.URL.Query().Get("tenant"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, es)
}

func (h *Handler) createEnvironment(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Tenant string `json:"tenant"`
		ID     string `json:"id"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	e, err := h.service.CreateEnvironment(r.Context(), in.Tenant, in.ID)
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, e)
}

func (h *Handler) listAPIs(w http.ResponseWriter, r *http.Request) error {
	as, err := h.service.store.ListAPIs(r.Context())
	if err != nil {
		return err
	}
	out := make([]APIView, len(as))
	for i, a := range as {
		out[i] = apiView(a)
	}
	return reply(w, http.StatusOK, out)
}

func (h *Handler) createAPI(w http.ResponseWriter, r *http.Request) error {
	var in APIInput
	if err := decode(r, &in); err != nil {
		return err
	}
	a, err := h.service.CreateAPI(r.Context(), in.api())
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, apiView(a))
}

func (h *Handler) getAPI(w http.ResponseWriter, r *http.Request) error {
	if err := checkLookup("API", r.PathValue("audience")); err != nil {
		return err
	}
	a, err := h.service.store.GetAPI(r.Context(), r.PathValue("audience"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, apiView(a))
}

func (h *Handler) updateAPI(w http.ResponseWriter, r *http.Request) error {
	var in APIInput
	if err := decode(r, &in); err != nil {
		return err
	}
	a, err := h.service.UpdateAPI(r.Context(), r.PathValue("audience"), in.patch())
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, apiView(a))
}

func (h *Handler) deleteAPI(w http.ResponseWriter, r *http.Request) error {
	if err := h.service.DeleteAPI(r.Context(), r.PathValue("audience")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) listClients(w http.ResponseWriter, r *http.Request) error {
	cs, err := h.service.store.ListClients(r.Context())
	if err != nil {
		return err
	}
	tenant := r.URL.Query().Get("tenant")
	out := []ClientView{}
	for _, c := range cs {
		if tenant == "" || c.Tenant == tenant {
			out = append(out, clientView(c, ""))
		}
	}
	return reply(w, http.StatusOK, out)
}

func (h *Handler) createClient(w http.ResponseWriter, r *http.Request) error {
	var in ClientInput
	if err := decode(r, &in); err != nil {
		return err
	}
	n := NewClient{Tenant: in.Tenant, Environment: in.Environment, ID: in.ClientID, Secret: in.ClientSecret, Auth: in.auth()}
	setIf(&n.Name, in.Name)
	setIf(&n.Grants, in.Grants)
	setIf(&n.TokenTTL, ptrDuration(in.TokenTTL))
	setIf(&n.Limits, in.Limits)
	setIf(&n.SecretExpiresIn, ptrDuration(in.SecretExpiresIn))
	c, plain, err := h.service.CreateClient(r.Context(), n)
	if err != nil {
		return err
	}
	if in.ClientSecret != "" {
		plain = "" // an imported secret is the caller's already: never echo it
	}
	w.Header().Set("Cache-Control", "no-store")
	return reply(w, http.StatusCreated, clientView(c, plain))
}

func (h *Handler) getClient(w http.ResponseWriter, r *http.Request) error {
	if err := checkLookup("client", r.PathValue("id")); err != nil {
		return err
	}
	c, err := h.service.store.GetClient(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, clientView(c, ""))
}

func (h *Handler) updateClient(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name     *string              `json:"name"`
		Grants   *map[string][]string `json:"grants"`
		TokenTTL *Duration            `json:"token_ttl"`
		Disabled *bool                `json:"disabled"`
		Limits   *store.Limits        `json:"limits"`
		AuthInput
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	p := ClientPatch{Name: in.Name, Grants: in.Grants, TokenTTL: ptrDuration(in.TokenTTL), Disabled: in.Disabled, Limits: in.Limits}
	in.patch(&p)
	c, err := h.service.UpdateClient(r.Context(), r.PathValue("id"), p)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, clientView(c, ""))
}

func (h *Handler) deleteClient(w http.ResponseWriter, r *http.Request) error {
	if err := h.service.DeleteClient(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) setDisabled(disabled bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := h.service.UpdateClient(r.Context(), r.PathValue("id"), ClientPatch{Disabled: &disabled})
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, clientView(c, ""))
	}
}

func (h *Handler) rotateSecret(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		KeepOld      *Duration `json:"keep_old"`
		ExpiresIn    *Duration `json:"expires_in"`
		ExpireOldNow bool      `json:"expire_old_now"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	var keep, expires time.Duration
	setIf(&keep, ptrDuration(in.KeepOld))
	setIf(&expires, ptrDuration(in.ExpiresIn))
	c, plain, err := h.service.RotateSecret(r.Context(), r.PathValue("id"), RotateOptions{KeepOld: keep, ExpiresIn: expires, ExpireOldNow: in.ExpireOldNow})
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return reply(w, http.StatusOK, clientView(c, plain))
}

func (h *Handler) listKeys(w http.ResponseWriter, r *http.Request) error {
	ks, err := h.keys.List(r.Context())
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, keyViews(ks))
}

func (h *Handler) rotateKeys(w http.ResponseWriter, r *http.Request) error {
	ks, err := h.service.RotateKeys(r.Context(), h.keys)
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, keyViews(ks))
}

func keyViews(ks []store.SigningKey) []KeyView {
	out := make([]KeyView, len(ks))
	for i, k := range ks {
		out[i] = keyView(k)
	}
	return out
}

func (h *Handler) revokeToken(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		JTI string `json:"jti"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	out, err := h.service.RevokeToken(r.Context(), h.revoked, in.JTI)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, out)
}
