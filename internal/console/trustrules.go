package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/store"
)

// ruleForm is the new-rule form, as typed.
type ruleForm struct {
	Name, Client, Match, Scopes, TTL string
}

// trustData is one trust's page: the trust, its rules, the tenant's
// clients a rule may map to, and the new-rule form.
type trustData struct {
	Trust     store.Trust
	KeySource string
	KeyIDs    []string
	Clients   []store.Client
	Form      ruleForm
}

// ruleWords maps Service's messages to the new-rule form's fields.
var ruleWords = []fieldWord{
	{"name", "rule_name"}, {"match", "match"}, {"scopes", "scopes"}, {"client", "client"}, {"token_ttl", "ttl"},
}

func (h *Handler) trust(w http.ResponseWriter, r *http.Request, s *session) error {
	d := trustData{}
	p := h.page(s, "tenants", "", &d)
	q := r.URL.Query()
	switch {
	case q.Has("created"):
		p.Notice = "Trust created. Add a rule to map its tokens to a client."
	case q.Has("added"):
		p.Notice = "Rule " + q.Get("added") + " added."
	case q.Has("deleted"):
		p.Notice = "Rule " + q.Get("deleted") + " deleted."
	}
	return h.showTrust(w, r, http.StatusOK, p, &d)
}

// showTrust fills one trust's page and draws it.
func (h *Handler) showTrust(w http.ResponseWriter, r *http.Request, status int, p *page, d *trustData) error {
	t, err := h.service.GetTrust(r.Context(), r.PathValue("tenant"), r.PathValue("name"))
	if err != nil {
		return err
	}
	cs, err := h.service.Store().ListClients(r.Context())
	if err != nil {
		return err
	}
	d.Trust, d.KeySource = t, admin.KeySourceOf(t)
	if t.JWKS != "" {
		d.KeyIDs = admin.KeyIDs(t.JWKS)
	}
	for _, c := range cs {
		if c.Tenant == t.Tenant {
			d.Clients = append(d.Clients, c)
		}
	}
	p.Title = "Trust " + t.Key()
	h.render(w, status, "trust", p)
	return nil
}

func (h *Handler) addRule(w http.ResponseWriter, r *http.Request, s *session) error {
	f := ruleForm{Name: field(r, "name"), Client: field(r, "client"), Match: strings.TrimSpace(r.PostFormValue("match")),
		Scopes: field(r, "scopes"), TTL: field(r, "ttl")}
	d := trustData{Form: f}
	fail := func(status int, errs map[string]string) error {
		p := h.page(s, "tenants", "", &d)
		p.Errors = errs
		return h.showTrust(w, r, status, p, &d)
	}
	rule := store.TrustRule{Name: f.Name, Client: f.Client, Match: f.Match, Scopes: strings.Fields(f.Scopes)}
	if f.TTL != "" {
		var err error
		if rule.TokenTTL, err = admin.ParseDuration(f.TTL); err != nil {
			return fail(http.StatusBadRequest, map[string]string{"ttl": sentence(err.Error())})
		}
	}
	tenant, name := r.PathValue("tenant"), r.PathValue("name")
	if _, err := h.service.AddRule(r.Context(), tenant, name, rule); err != nil {
		errs, ok := userError(err, "rule_name", "This trust already has a rule with this name.", ruleWords...)
		if !ok {
			return err
		}
		return fail(userStatus(err), errs)
	}
	return seeOther(w, r, trustPath(tenant, name)+"?added="+url.QueryEscape(rule.Name))
}

func (h *Handler) confirmDeleteTrust(w http.ResponseWriter, r *http.Request, s *session) error {
	t, err := h.service.GetTrust(r.Context(), r.PathValue("tenant"), r.PathValue("name"))
	if err != nil {
		return err
	}
	d := confirmData{
		Question: "Delete the trust " + t.Key() + "?",
		Detail: "Its " + plural(len(t.Rules), "rule") + " go with it: from now on, tokens of " + t.Issuer +
			" are refused for this tenant. Tokens already issued stay valid until they expire. This cannot be undone.",
		Action: trustPath(t.Tenant, t.Name) + "/delete", Button: "Delete trust", Cancel: trustPath(t.Tenant, t.Name),
	}
	h.render(w, http.StatusOK, "confirm", h.page(s, "tenants", "Delete trust", d))
	return nil
}

func (h *Handler) deleteTrust(w http.ResponseWriter, r *http.Request, s *session) error {
	tenant, name := r.PathValue("tenant"), r.PathValue("name")
	if err := h.service.DeleteTrust(r.Context(), tenant, name); err != nil {
		return err
	}
	return seeOther(w, r, "/console/tenants/"+url.PathEscape(tenant)+"/trusts?deleted="+url.QueryEscape(name))
}

func (h *Handler) confirmDeleteRule(w http.ResponseWriter, r *http.Request, s *session) error {
	tenant, name, rule := r.PathValue("tenant"), r.PathValue("name"), r.PathValue("rule")
	rules, err := h.service.ListRules(r.Context(), tenant, name)
	if err != nil {
		return err
	}
	found := false
	for _, x := range rules {
		found = found || x.Name == rule
	}
	if !found {
		return store.ErrNotFound
	}
	back := trustPath(tenant, name)
	d := confirmData{
		Question: "Delete the rule " + rule + " of " + store.TrustKey(tenant, name) + "?",
		Detail:   "The workloads it matched are refused from now on, unless another rule matches them. Tokens already issued stay valid until they expire.",
		Action:   back + "/rules/" + url.PathEscape(rule) + "/delete", Button: "Delete rule", Cancel: back,
	}
	h.render(w, http.StatusOK, "confirm", h.page(s, "tenants", "Delete rule", d))
	return nil
}

func (h *Handler) deleteRule(w http.ResponseWriter, r *http.Request, s *session) error {
	tenant, name, rule := r.PathValue("tenant"), r.PathValue("name"), r.PathValue("rule")
	if err := h.service.DeleteRule(r.Context(), tenant, name, rule); err != nil {
		return err
	}
	return seeOther(w, r, trustPath(tenant, name)+"?deleted="+url.QueryEscape(rule))
}

// plural writes "1 rule" or "3 rules".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
