package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/store"
)

// usageRow is a client's token count in one period against its quota.
type usageRow struct {
	Period string
	Count  int64
	Quota  int64 // zero: none
}

// clientData is one client's page.
type clientData struct {
	Client   store.Client
	Grants   []grantRow
	Secrets  []secretRow
	HasUsage bool
	Usage    []usageRow
	KeepOld  string
	// Auth is the authentication form, as stored or as typed; KeyIDs
	// the kids of the stored JWKS.
	Auth   authForm
	KeyIDs []string
}

func (h *Handler) client(w http.ResponseWriter, r *http.Request, s *session) error {
	p, err := h.clientPage(r, s, r.PathValue("id"))
	if err != nil {
		return err
	}
	switch r.URL.Query().Get("done") {
	case "disabled":
		p.Notice = "Client disabled: its token requests are refused from now on."
	case "enabled":
		p.Notice = "Client enabled."
	case "created":
		method := p.Data.(*clientData).Client.Auth.MethodOrDefault()
		p.Notice = "Client created. It authenticates with " + method + ", so it has no secret to copy."
	case "auth":
		p.Notice = "Authentication saved; it applies from the next token request."
	}
	h.render(w, http.StatusOK, "client", p)
	return nil
}

func (h *Handler) clientPage(r *http.Request, s *session, id string) (*page, error) {
	c, err := h.service.Store().GetClient(r.Context(), id)
	if err != nil {
		return nil, err
	}
	d := &clientData{Client: c, Grants: grantRows(c), Secrets: secretRows(c, h.now()), KeepOld: "24h",
		Auth: authFormOf(c.Auth), KeyIDs: admin.KeyIDs(c.Auth.JWKS)}
	if h.usage != nil {
		hour, day := h.usage.ClientUsage(c.ID)
		d.HasUsage = true
		d.Usage = []usageRow{{"This hour", hour, c.Limits.QuotaHour}, {"Today", day, c.Limits.QuotaDay}}
	}
	return h.page(s, "clients", "Client "+c.Name, d), nil
}

// rotateSecret adds a new secret; the old one lives for keep_old more.
func (h *Handler) rotateSecret(w http.ResponseWriter, r *http.Request, s *session) error {
	id, keepText := r.PathValue("id"), field(r, "keep_old")
	fail := func(status int, errs map[string]string) error {
		p, err := h.clientPage(r, s, id)
		if err != nil {
			return err
		}
		p.Data.(*clientData).KeepOld = keepText
		p.Errors = errs
		h.render(w, status, "client", p)
		return nil
	}
	if keepText == "" {
		keepText = "0"
	}
	keep, err := admin.ParseDuration(keepText)
	if err != nil {
		return fail(http.StatusBadRequest, map[string]string{"keep_old": sentence(err.Error())})
	}
	c, plain, err := h.service.RotateSecret(r.Context(), id, admin.RotateOptions{KeepOld: keep})
	if err != nil {
		// A rule about keep_old goes next to it; any other (a client
		// without a secret has no rotate form) above the page.
		if errs, ok := userError(err, "keep_old", "", fieldWord{"keep_old", "keep_old"}); ok {
			return fail(userStatus(err), errs)
		}
		return err
	}
	return h.showSecret(w, r, s, c, plain, true)
}

// secretData is the page that shows a new secret, once.
type secretData struct {
	Client   store.Client
	Secret   string
	Rotated  bool
	TokenURL string
	Curls    []curlExample
	Secrets  []secretRow
}

// curlExample is the documents' token request, filled in for one audience.
type curlExample struct {
	Audience string
	Command  string
}

func (h *Handler) showSecret(w http.ResponseWriter, r *http.Request, s *session, c store.Client, plain string, rotated bool) error {
	d := secretData{Client: c, Secret: plain, Rotated: rotated, TokenURL: h.tokenURL(r), Secrets: secretRows(c, h.now())}
	for _, g := range grantRows(c) {
		aud := strings.ReplaceAll(g.Audience, store.TenantPlaceholder, c.Tenant)
		d.Curls = append(d.Curls, curlExample{aud, curlCommand(d.TokenURL, c.ID, plain, aud)})
	}
	title := "API key created"
	if rotated {
		title = "Secret rotated"
	}
	h.render(w, http.StatusOK, "secret", h.page(s, "clients", title, d))
	return nil
}

// tokenURL is the token endpoint under the configured issuer.
func (h *Handler) tokenURL(r *http.Request) string {
	base := strings.TrimSuffix(h.cfg.Issuer, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + "/oauth/token"
}

// curlCommand writes the documents' token request with every value
// single-quoted for a POSIX shell.
func curlCommand(tokenURL, clientID, secret, audience string) string {
	lines := []string{
		"curl -X POST " + shellQuote(tokenURL),
		"--header 'Content-Type: application/x-www-form-urlencoded'",
		"--data-urlencode " + shellQuote("client_id="+clientID),
		"--data-urlencode " + shellQuote("client_secret="+secret),
		"--data-urlencode 'grant_type=client_credentials'",
		"--data-urlencode " + shellQuote("audience="+audience),
	}
	return strings.Join(lines, " \\\n  ")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func (h *Handler) setDisabled(disabled bool) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		c, err := h.service.UpdateClient(r.Context(), r.PathValue("id"), admin.ClientPatch{Disabled: &disabled})
		if err != nil {
			return err
		}
		done := "enabled"
		if disabled {
			done = "disabled"
		}
		return seeOther(w, r, "/console/clients/"+c.ID+"?done="+done)
	}
}

func (h *Handler) confirmDeleteClient(w http.ResponseWriter, r *http.Request, s *session) error {
	c, err := h.service.Store().GetClient(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	detail := "Its token requests are refused from now on; tokens already issued stay valid until they expire. This cannot be undone."
	if _, ok := c.Grants[store.AdminAudience]; ok {
		detail = "This is an admin client: whoever uses it loses access to the admin API and this console. " + detail
	}
	if c.ID == s.ClientID {
		detail = "You are signed in as this client: deleting it signs you out. " + detail
	}
	d := confirmData{
		Question: "Delete the client " + c.Name + " (" + c.ID + ")?", Detail: detail,
		Action: "/console/clients/" + c.ID + "/delete", Button: "Delete client", Cancel: "/console/clients/" + c.ID,
	}
	h.render(w, http.StatusOK, "confirm", h.page(s, "clients", "Delete client", d))
	return nil
}

func (h *Handler) deleteClient(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	if err := h.service.DeleteClient(r.Context(), id); err != nil {
		if errors.Is(err, admin.ErrInvalid) { // a trust's rule still names it
			h.message(w, s, http.StatusBadRequest, "Cannot delete", sentence(strings.TrimPrefix(err.Error(), admin.ErrInvalid.Error()+": ")))
			return nil
		}
		return err
	}
	return seeOther(w, r, "/console/clients?deleted="+id)
}
