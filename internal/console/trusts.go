package console

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/jwks"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The pages of a tenant's trusts (DESIGN §9): the list with a form for a
// new trust, and one trust with its rules and a form for a new rule.
// Every change goes through admin.Service.

// mountTrusts adds the trust pages; read and write guard them as the
// other pages are guarded.
func (h *Handler) mountTrusts(mux *http.ServeMux, read, write func(pageFunc) http.Handler) {
	mux.Handle("GET /console/tenants/{tenant}/trusts", read(h.trusts))
	mux.Handle("POST /console/tenants/{tenant}/trusts", write(h.createTrust))
	mux.Handle("GET /console/tenants/{tenant}/trusts/{name}", read(h.trust))
	mux.Handle("GET /console/tenants/{tenant}/trusts/{name}/delete", read(h.confirmDeleteTrust))
	mux.Handle("POST /console/tenants/{tenant}/trusts/{name}/delete", write(h.deleteTrust))
	mux.Handle("POST /console/tenants/{tenant}/trusts/{name}/rules", write(h.addRule))
	mux.Handle("GET /console/tenants/{tenant}/trusts/{name}/rules/{rule}/delete", read(h.confirmDeleteRule))
	mux.Handle("POST /console/tenants/{tenant}/trusts/{name}/rules/{rule}/delete", write(h.deleteRule))
}

// trustForm is the new-trust form, as typed.
type trustForm struct {
	Name, Issuer, JWKSURI, JWKS, Audiences, MaxAge string
	SingleUse                                      bool
}

// trustsData is a tenant's trusts page.
type trustsData struct {
	Tenant store.Tenant
	Trusts []store.Trust
	Form   trustForm
}

// trustWords maps Service's messages to the new-trust form's fields;
// jwks_uri comes before jwks, which starts it.
var trustWords = []fieldWord{
	{"name", "trust_name"}, {"issuer", "issuer"}, {"jwks_uri", "jwks_uri"}, {"jwks", "jwks"},
	{"audiences", "audiences"}, {"max_age", "max_age"},
}

func trustPath(tenant, name string) string {
	return "/console/tenants/" + url.PathEscape(tenant) + "/trusts/" + url.PathEscape(name)
}

func (h *Handler) trusts(w http.ResponseWriter, r *http.Request, s *session) error {
	d := trustsData{}
	p := h.page(s, "tenants", "Trusts", &d)
	q := r.URL.Query()
	if q.Has("deleted") {
		p.Notice = "Trust " + q.Get("deleted") + " deleted."
	}
	return h.showTrusts(w, r, http.StatusOK, p, &d)
}

// showTrusts fills a tenant's trusts and draws the page.
func (h *Handler) showTrusts(w http.ResponseWriter, r *http.Request, status int, p *page, d *trustsData) error {
	tenant := r.PathValue("tenant")
	var err error
	if d.Tenant, err = h.service.Store().GetTenant(r.Context(), tenant); err != nil {
		return err
	}
	if d.Trusts, err = h.service.ListTrusts(r.Context(), tenant); err != nil {
		return err
	}
	p.Title = "Trusts of " + tenant
	h.render(w, status, "trusts", p)
	return nil
}

func (h *Handler) createTrust(w http.ResponseWriter, r *http.Request, s *session) error {
	f := trustForm{Name: field(r, "name"), Issuer: field(r, "issuer"), JWKSURI: field(r, "jwks_uri"),
		JWKS: strings.TrimSpace(r.PostFormValue("jwks")), Audiences: r.PostFormValue("audiences"),
		MaxAge: field(r, "max_age"), SingleUse: r.PostFormValue("single_use") == "on"}
	d := trustsData{Form: f}
	fail := func(status int, errs map[string]string) error {
		p := h.page(s, "tenants", "Trusts", &d)
		p.Errors = errs
		return h.showTrusts(w, r, status, p, &d)
	}
	t := store.Trust{Tenant: r.PathValue("tenant"), Name: f.Name, Issuer: f.Issuer, JWKSURI: f.JWKSURI,
		Audiences: strings.Fields(f.Audiences), SingleUse: f.SingleUse}
	if f.MaxAge != "" {
		var err error
		if t.MaxAge, err = admin.ParseDuration(f.MaxAge); err != nil {
			return fail(http.StatusBadRequest, map[string]string{"max_age": sentence(err.Error())})
		}
	}
	keys, err := keysFromForm(f.JWKS)
	if err != nil {
		return fail(http.StatusBadRequest, map[string]string{"jwks": sentence(err.Error())})
	}
	t.JWKS = keys
	if _, err := h.service.CreateTrust(r.Context(), t); err != nil {
		errs, ok := userError(err, "trust_name", "This tenant already has a trust with this name.", trustWords...)
		if !ok {
			return err
		}
		return fail(userStatus(err), errs)
	}
	return seeOther(w, r, trustPath(t.Tenant, t.Name)+"?created=1")
}

// keysFromForm reads the pasted keys: a JWK Set as it is, or PEM public
// keys (as `openssl pkey -pubout` writes them) turned into one, as the
// CLI's --jwks-file does.
func keysFromForm(text string) (string, error) {
	if !strings.HasPrefix(text, "-----BEGIN") {
		return text, nil
	}
	set, err := jwks.FromFile([]byte(text))
	if err != nil {
		return "", errors.New("the keys: " + strings.TrimPrefix(err.Error(), "jwks: "))
	}
	return string(bytes.TrimSpace(set)), nil
}
