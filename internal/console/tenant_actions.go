package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Renaming and deleting tenants and environments: every change goes
// through admin.Service, which holds the rules (a delete that others
// depend on needs cascade; the id of a tenant never changes).

func (h *Handler) renameTenant(w http.ResponseWriter, r *http.Request, s *session) error {
	id := field(r, "id")
	if _, err := h.service.RenameTenant(r.Context(), id, field(r, "name")); err != nil {
		if isNotFound(err) {
			return err
		}
		if errs, ok := userError(err, "name", "", fieldWord{"name", "name"}); ok {
			h.message(w, s, userStatus(err), "Tenant not renamed", errs["name"])
			return nil
		}
		return err
	}
	return seeOther(w, r, "/console/tenants?renamed="+url.QueryEscape(id))
}

// dependents counts a tenant's (env "") or an environment's clients, and
// a tenant's environments.
func (h *Handler) dependents(r *http.Request, tenant, env string) (envs, clients int, err error) {
	cs, err := h.service.Store().ListClients(r.Context())
	if err != nil {
		return 0, 0, err
	}
	for _, c := range cs {
		if c.Tenant == tenant && (env == "" || c.Environment == env) {
			clients++
		}
	}
	if env == "" {
		es, err := h.service.Store().ListEnvironments(r.Context(), tenant)
		if err != nil {
			return 0, 0, err
		}
		envs = len(es)
	}
	return envs, clients, nil
}

func (h *Handler) confirmDeleteTenant(w http.ResponseWriter, r *http.Request, s *session) error {
	t, err := h.service.Store().GetTenant(r.Context(), r.URL.Query().Get("id"))
	if err != nil {
		return err
	}
	envs, clients, err := h.dependents(r, t.ID, "")
	if err != nil {
		return err
	}
	d := confirmData{Question: "Delete the tenant " + t.Name + " (" + t.ID + ")?",
		Detail: "This cannot be undone.", Action: "/console/tenants/delete",
		Hidden: map[string]string{"id": t.ID}, Button: "Delete tenant", Cancel: "/console/tenants"}
	trusts, err := h.service.Store().ListTrusts(r.Context(), t.ID)
	if err != nil {
		return err
	}
	if envs+clients+len(trusts) > 0 {
		d.Detail = fmt.Sprintf("Its %d environments, %d clients and %d trusts are deleted with it, and those clients' tokens are refused from now on. %s",
			envs, clients, len(trusts), d.Detail)
		d.Hidden["cascade"] = "true"
		d.Button = fmt.Sprintf("Delete tenant, %d environments, %d clients and %d trusts", envs, clients, len(trusts))
	}
	h.render(w, http.StatusOK, "confirm", h.page(s, "tenants", "Delete tenant", d))
	return nil
}

func (h *Handler) deleteTenant(w http.ResponseWriter, r *http.Request, s *session) error {
	id := field(r, "id")
	if _, err := h.service.DeleteTenant(r.Context(), id, field(r, "cascade") == "true"); err != nil {
		return h.refusedDelete(w, s, err)
	}
	return seeOther(w, r, "/console/tenants?deleted="+url.QueryEscape(id))
}

func (h *Handler) confirmDeleteEnvironment(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	e, err := h.service.Store().GetEnvironment(r.Context(), q.Get("tenant"), q.Get("id"))
	if err != nil {
		return err
	}
	_, clients, err := h.dependents(r, e.Tenant, e.ID)
	if err != nil {
		return err
	}
	key := store.EnvironmentKey(e.Tenant, e.ID)
	d := confirmData{Question: "Delete the environment " + key + "?",
		Detail: "Gateway paths with its api_key stop working. This cannot be undone.", Action: "/console/environments/delete",
		Hidden: map[string]string{"tenant": e.Tenant, "id": e.ID}, Button: "Delete environment", Cancel: "/console/tenants"}
	if clients > 0 {
		d.Detail = fmt.Sprintf("Its %d clients are deleted with it, and their tokens are refused from now on. %s", clients, d.Detail)
		d.Hidden["cascade"] = "true"
		d.Button = fmt.Sprintf("Delete environment and %d clients", clients)
	}
	h.render(w, http.StatusOK, "confirm", h.page(s, "tenants", "Delete environment", d))
	return nil
}

func (h *Handler) deleteEnvironment(w http.ResponseWriter, r *http.Request, s *session) error {
	tenant, id := field(r, "tenant"), field(r, "id")
	if _, err := h.service.DeleteEnvironment(r.Context(), tenant, id, field(r, "cascade") == "true"); err != nil {
		return h.refusedDelete(w, s, err)
	}
	return seeOther(w, r, "/console/tenants?deleted="+url.QueryEscape(store.EnvironmentKey(tenant, id)))
}

// refusedDelete shows why a delete was refused (something was added since
// the confirmation was shown), or passes any other error on.
func (h *Handler) refusedDelete(w http.ResponseWriter, s *session, err error) error {
	if !errors.Is(err, admin.ErrInUse) {
		return err
	}
	h.message(w, s, http.StatusConflict, "Not deleted", sentence(strings.TrimPrefix(err.Error(), admin.ErrInUse.Error()+": ")))
	return nil
}
