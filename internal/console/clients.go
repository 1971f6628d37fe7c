package console

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/secret"
	"github.com/gatehouse/gatehouse/internal/store"
)

// clientRow is a client in the list, with its token counts when known.
type clientRow struct {
	store.Client
	Hour, Day int64
}

// clientsData is the clients list.
type clientsData struct {
	Clients  []clientRow
	Tenants  []store.Tenant
	Tenant   string // the filter; "" shows all
	HasUsage bool
}

func (h *Handler) clients(w http.ResponseWriter, r *http.Request, s *session) error {
	cs, err := h.service.Store().ListClients(r.Context())
	if err != nil {
		return err
	}
	ts, err := h.service.Store().ListTenants(r.Context())
	if err != nil {
		return err
	}
	d := clientsData{Tenants: ts, Tenant: r.URL.Query().Get("tenant"), HasUsage: h.usage != nil}
	for _, c := range cs {
		if d.Tenant != "" && c.Tenant != d.Tenant {
			continue
		}
		row := clientRow{Client: c}
		if h.usage != nil {
			row.Hour, row.Day = h.usage.ClientUsage(c.ID)
		}
		d.Clients = append(d.Clients, row)
	}
	p := h.page(s, "clients", "Clients (API keys)", d)
	if id := r.URL.Query().Get("deleted"); id != "" {
		p.Notice = "Client " + id + " deleted; its token requests are refused from now on."
	}
	h.render(w, http.StatusOK, "clients", p)
	return nil
}

// clientForm is the create form, as typed, with what it offers.
type clientForm struct {
	Name, Tenant, Environment, TTL string
	Picked                         map[string]bool // "audience scope" values ticked
	Auth                           authForm
	Tenants                        []store.Tenant
	Environments                   []store.Environment
	APIs                           []store.API
}

// fill loads the tenants, environments and APIs the form offers.
func (h *Handler) fill(r *http.Request, f *clientForm) error {
	var err error
	if f.Tenants, err = h.service.Store().ListTenants(r.Context()); err != nil {
		return err
	}
	if f.Environments, err = h.service.Store().ListEnvironments(r.Context(), ""); err != nil {
		return err
	}
	apis, err := h.service.Store().ListAPIs(r.Context())
	if err != nil {
		return err
	}
	// The product APIs first; the built-in ones (admin, introspection) last.
	slices.SortStableFunc(apis, func(a, b store.API) int {
		if a.BuiltIn == b.BuiltIn {
			return 0
		}
		if a.BuiltIn {
			return 1
		}
		return -1
	})
	f.APIs = apis
	return nil
}

func (h *Handler) newClient(w http.ResponseWriter, r *http.Request, s *session) error {
	f := clientForm{Tenant: r.URL.Query().Get("tenant"), Picked: map[string]bool{}, Auth: authForm{Method: store.AuthSecret}}
	if err := h.fill(r, &f); err != nil {
		return err
	}
	h.render(w, http.StatusOK, "client_new", h.page(s, "clients", "Create an API key", f))
	return nil
}

// clientWords maps Service's messages to the create form's fields.
var clientWords = append([]fieldWord{
	{"name", "name"}, {"tenant", "tenant"}, {"environment", "environment"},
	{"grant", "grants"}, {"token_ttl", "ttl"}, {"client_id", ""},
}, authWords...)

func (h *Handler) createClient(w http.ResponseWriter, r *http.Request, s *session) error {
	f := clientForm{Name: field(r, "name"), Tenant: field(r, "tenant"), Environment: field(r, "environment"), TTL: field(r, "ttl"),
		Picked: map[string]bool{}, Auth: readAuthForm(r)}
	n := admin.NewClient{Name: f.Name, Tenant: f.Tenant, Grants: map[string][]string{}, Auth: f.Auth.auth()}
	for _, g := range r.PostForm["grant"] {
		f.Picked[g] = true
		aud, scope := splitGrant(g)
		n.Grants[aud] = append(n.Grants[aud], scope...)
	}
	errs := map[string]string{}
	if f.Environment != "" {
		tenant, env, _ := strings.Cut(f.Environment, "/")
		if tenant != f.Tenant {
			errs["environment"] = "Environment " + f.Environment + " belongs to another tenant: pick one of " + f.Tenant + "'s environments, or organization-wide."
		}
		n.Environment = env
	}
	if f.TTL != "" {
		ttl, err := admin.ParseDuration(f.TTL)
		if err != nil {
			errs["ttl"] = sentence(err.Error())
		}
		n.TokenTTL = ttl
	}
	var c store.Client
	var plain string
	var err error
	if len(errs) == 0 {
		c, plain, err = h.service.CreateClient(r.Context(), n)
		if err != nil {
			var ok bool
			if errs, ok = userError(err, "", "A client with this id already exists.", clientWords...); !ok {
				return err
			}
		}
	}
	if len(errs) > 0 {
		if err := h.fill(r, &f); err != nil {
			return err
		}
		p := h.page(s, "clients", "Create an API key", f)
		p.Errors = errs
		h.render(w, userStatus(err), "client_new", p)
		return nil
	}
	if plain == "" {
		return seeOther(w, r, "/console/clients/"+c.ID+"?done=created")
	}
	return h.showSecret(w, r, s, c, plain, false)
}

// splitGrant reads a checkbox value "audience scope"; an API without
// scopes is granted with "audience " (no scope). Scope names hold no
// spaces, and neither do URIs, so the last space divides them.
func splitGrant(v string) (audience string, scopes []string) {
	i := strings.LastIndexByte(v, ' ')
	if i < 0 {
		return v, []string{}
	}
	if v[i+1:] == "" {
		return v[:i], []string{}
	}
	return v[:i], []string{v[i+1:]}
}

// secretRow is a stored secret as shown: never its hash.
type secretRow struct {
	ID        string
	CreatedAt time.Time
	ExpiresAt *time.Time
	Live      bool
	Imported  bool
}

func secretRows(c store.Client, now time.Time) []secretRow {
	rows := make([]secretRow, len(c.Secrets))
	for i, sc := range c.Secrets {
		rows[i] = secretRow{ID: sc.ID, CreatedAt: sc.CreatedAt, ExpiresAt: sc.ExpiresAt, Live: sc.Live(now), Imported: secret.IsSlow(sc.Hash)}
	}
	return rows
}

// grantRow is one granted API with its scopes.
type grantRow struct {
	Audience string
	Scopes   []string
}

func grantRows(c store.Client) []grantRow {
	rows := make([]grantRow, 0, len(c.Grants))
	for aud, scopes := range c.Grants {
		rows = append(rows, grantRow{aud, scopes})
	}
	slices.SortFunc(rows, func(a, b grantRow) int { return strings.Compare(a.Audience, b.Audience) })
	return rows
}
