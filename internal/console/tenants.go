package console

import (
	"net/http"

	"github.com/gatehouse/gatehouse/internal/store"
)

// homeData is the overview's counts.
type homeData struct {
	Tenants, Environments, APIs, Clients, Disabled, Keys int
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	var d homeData
	ts, err := h.service.Store().ListTenants(ctx)
	if err != nil {
		return err
	}
	es, err := h.service.Store().ListEnvironments(ctx, "")
	if err != nil {
		return err
	}
	as, err := h.service.Store().ListAPIs(ctx)
	if err != nil {
		return err
	}
	cs, err := h.service.Store().ListClients(ctx)
	if err != nil {
		return err
	}
	ks, err := h.keyRing.List(ctx)
	if err != nil {
		return err
	}
	d.Tenants, d.Environments, d.APIs, d.Clients, d.Keys = len(ts), len(es), len(as), len(cs), len(ks)
	for _, c := range cs {
		if c.Disabled {
			d.Disabled++
		}
	}
	h.render(w, http.StatusOK, "home", h.page(s, "home", "Overview", d))
	return nil
}

// tenantRow is a tenant with its environments and trusts.
type tenantRow struct {
	store.Tenant
	Environments []store.Environment
	Trusts       []store.Trust
}

// tenantsData is the tenants page: the list and its two forms.
type tenantsData struct {
	Tenants                []tenantRow
	TenantID, TenantName   string
	EnvTenant, EnvID       string
	CreatedEnv, CreatedKey string
}

func (h *Handler) tenants(w http.ResponseWriter, r *http.Request, s *session) error {
	d := tenantsData{EnvTenant: r.URL.Query().Get("tenant")}
	p := h.page(s, "tenants", "Tenants and environments", &d)
	if id := r.URL.Query().Get("created"); id != "" {
		p.Notice = "Tenant " + id + " created."
	}
	if env := r.URL.Query().Get("env"); env != "" {
		d.CreatedEnv = env
	}
	return h.showTenants(w, r, http.StatusOK, p, &d)
}

// showTenants fills the list and draws the page.
func (h *Handler) showTenants(w http.ResponseWriter, r *http.Request, status int, p *page, d *tenantsData) error {
	ts, err := h.service.Store().ListTenants(r.Context())
	if err != nil {
		return err
	}
	es, err := h.service.Store().ListEnvironments(r.Context(), "")
	if err != nil {
		return err
	}
	trusts, err := h.service.ListTrusts(r.Context(), "")
	if err != nil {
		return err
	}
	d.Tenants = make([]tenantRow, len(ts))
	for i, t := range ts {
		d.Tenants[i].Tenant = t
		for _, tr := range trusts {
			if tr.Tenant == t.ID {
				d.Tenants[i].Trusts = append(d.Tenants[i].Trusts, tr)
			}
		}
		for _, e := range es {
			if e.Tenant == t.ID {
				d.Tenants[i].Environments = append(d.Tenants[i].Environments, e)
				if e.Tenant+"/"+e.ID == d.CreatedEnv {
					d.CreatedKey = e.APIKey
				}
			}
		}
	}
	h.render(w, status, "tenants", p)
	return nil
}

func (h *Handler) createTenant(w http.ResponseWriter, r *http.Request, s *session) error {
	d := tenantsData{TenantID: field(r, "id"), TenantName: field(r, "name")}
	t, err := h.service.CreateTenant(r.Context(), d.TenantID, d.TenantName)
	if err != nil {
		errs, ok := userError(err, "tenant_id", "A tenant with this id already exists.", fieldWord{"tenant id", "tenant_id"}, fieldWord{"name", "tenant_name"})
		if !ok {
			return err
		}
		p := h.page(s, "tenants", "Tenants and environments", &d)
		p.Errors = errs
		return h.showTenants(w, r, userStatus(err), p, &d)
	}
	return seeOther(w, r, "/console/tenants?created="+t.ID)
}

func (h *Handler) createEnvironment(w http.ResponseWriter, r *http.Request, s *session) error {
	d := tenantsData{EnvTenant: field(r, "tenant"), EnvID: field(r, "id")}
	e, err := h.service.CreateEnvironment(r.Context(), d.EnvTenant, d.EnvID)
	if err != nil {
		errs, ok := userError(err, "env_id", "This tenant already has an environment with this id.", fieldWord{"environment", "env_id"})
		if isNotFound(err) {
			errs, ok = map[string]string{"env_tenant": "Pick a tenant that exists."}, true
		}
		if !ok {
			return err
		}
		p := h.page(s, "tenants", "Tenants and environments", &d)
		p.Errors = errs
		return h.showTenants(w, r, userStatus(err), p, &d)
	}
	return seeOther(w, r, "/console/tenants?env="+e.Tenant+"/"+e.ID)
}
