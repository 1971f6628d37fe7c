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

// apisData is the APIs list.
type apisData struct {
	APIs    []store.API
	Clients map[string]int // clients holding a grant, by audience
}

func (h *Handler) apis(w http.ResponseWriter, r *http.Request, s *session) error {
	as, err := h.service.Store().ListAPIs(r.Context())
	if err != nil {
		return err
	}
	cs, err := h.service.Store().ListClients(r.Context())
	if err != nil {
		return err
	}
	d := apisData{APIs: as, Clients: map[string]int{}}
	for _, c := range cs {
		for aud := range c.Grants {
			d.Clients[aud]++
		}
	}
	p := h.page(s, "apis", "APIs", d)
	q := r.URL.Query()
	switch {
	case q.Has("created"):
		p.Notice = "API " + q.Get("created") + " created."
	case q.Has("updated"):
		p.Notice = "API " + q.Get("updated") + " saved."
	case q.Has("deleted"):
		p.Notice = "API " + q.Get("deleted") + " deleted."
	}
	h.render(w, http.StatusOK, "apis", p)
	return nil
}

// apiForm is the create and edit form, as typed.
type apiForm struct {
	Edit     bool
	BuiltIn  bool
	Audience string
	Name     string
	Scopes   string // one scope a line: name, then its description
	TTL      string
	Format   string
	Alg      string
	Service  string
	Formats  []string
	Algs     []string
}

func newAPIForm() apiForm {
	return apiForm{TTL: "24h", Format: store.FormatJWT, Alg: "RS256", Formats: []string{store.FormatJWT, store.FormatOpaque}, Algs: store.SigningAlgs}
}

func apiFormOf(a store.API) apiForm {
	f := newAPIForm()
	f.Edit, f.BuiltIn, f.Audience, f.Name = true, a.BuiltIn, a.Audience, a.Name
	f.TTL, f.Format, f.Alg, f.Service = formatDuration(a.TokenTTL), a.TokenFormat, a.SigningAlg, a.Service
	lines := make([]string, len(a.Scopes))
	for i, sc := range a.Scopes {
		lines[i] = strings.TrimSpace(sc.Name + " " + sc.Description)
	}
	f.Scopes = strings.Join(lines, "\n")
	return f
}

// read fills the form from a post; a built-in API's fixed fields (shown
// disabled, so not posted) keep their values.
func (f *apiForm) read(r *http.Request) {
	f.Audience, f.Name, f.TTL, f.Alg = field(r, "audience"), field(r, "name"), field(r, "ttl"), field(r, "alg")
	if !f.BuiltIn {
		f.Scopes, f.Format, f.Service = r.PostFormValue("scopes"), field(r, "format"), field(r, "service")
	}
}

// parseScopes reads one scope a line: the name, then any description.
func parseScopes(text string) []store.Scope {
	scopes := []store.Scope{}
	for line := range strings.Lines(text) {
		name, desc, _ := strings.Cut(strings.TrimSpace(line), " ")
		if name != "" {
			scopes = append(scopes, store.Scope{Name: name, Description: strings.TrimSpace(desc)})
		}
	}
	return scopes
}

// apiWords maps Service's messages to the form's fields.
var apiWords = []fieldWord{
	{"audience", "audience"}, {"scope", "scopes"}, {"token_ttl", "ttl"}, {"token_format", "format"},
	{"signing_alg", "alg"}, {"service", "service"}, {"reuse_window", "ttl"}, {"built-in", ""},
}

func (h *Handler) newAPI(w http.ResponseWriter, r *http.Request, s *session) error {
	h.render(w, http.StatusOK, "api_form", h.page(s, "apis", "New API", newAPIForm()))
	return nil
}

func (h *Handler) createAPI(w http.ResponseWriter, r *http.Request, s *session) error {
	f := newAPIForm()
	f.read(r)
	ttl, err := admin.ParseDuration(f.TTL)
	if err != nil {
		return h.apiFormError(w, s, f, http.StatusBadRequest, map[string]string{"ttl": sentence(err.Error())})
	}
	a := store.API{Audience: f.Audience, Name: f.Name, Scopes: parseScopes(f.Scopes), TokenTTL: ttl, TokenFormat: f.Format, SigningAlg: f.Alg, Service: f.Service}
	if _, err := h.service.CreateAPI(r.Context(), a); err != nil {
		errs, ok := userError(err, "audience", "An API with this audience already exists.", apiWords...)
		if !ok {
			return err
		}
		if errors.Is(err, store.ErrAlreadyExists) {
			// The clash is the audience or the service name: find which.
			if _, gerr := h.service.Store().GetAPI(r.Context(), a.Audience); isNotFound(gerr) {
				errs = map[string]string{"service": "Another API already uses this service name."}
			}
		}
		return h.apiFormError(w, s, f, userStatus(err), errs)
	}
	return seeOther(w, r, "/console/apis?created="+url.QueryEscape(a.Audience))
}

func (h *Handler) apiFormError(w http.ResponseWriter, s *session, f apiForm, status int, errs map[string]string) error {
	title := "New API"
	if f.Edit {
		title = "Edit API"
	}
	p := h.page(s, "apis", title, f)
	p.Errors = errs
	h.render(w, status, "api_form", p)
	return nil
}

func (h *Handler) editAPI(w http.ResponseWriter, r *http.Request, s *session) error {
	a, err := h.service.Store().GetAPI(r.Context(), r.URL.Query().Get("audience"))
	if err != nil {
		return err
	}
	h.render(w, http.StatusOK, "api_form", h.page(s, "apis", "Edit API", apiFormOf(a)))
	return nil
}

func (h *Handler) updateAPI(w http.ResponseWriter, r *http.Request, s *session) error {
	a, err := h.service.Store().GetAPI(r.Context(), r.PostFormValue("audience"))
	if err != nil {
		return err
	}
	f := apiFormOf(a)
	f.read(r)
	ttl, err := admin.ParseDuration(f.TTL)
	if err != nil {
		return h.apiFormError(w, s, f, http.StatusBadRequest, map[string]string{"ttl": sentence(err.Error())})
	}
	p := admin.APIPatch{Name: &f.Name, TokenTTL: &ttl, SigningAlg: &f.Alg}
	if !a.BuiltIn {
		scopes := parseScopes(f.Scopes)
		p.Scopes, p.TokenFormat, p.Service = &scopes, &f.Format, &f.Service
	}
	if _, err := h.service.UpdateAPI(r.Context(), a.Audience, p); err != nil {
		errs, ok := userError(err, "service", "Another API already uses this service name.", apiWords...)
		if !ok {
			return err
		}
		return h.apiFormError(w, s, f, userStatus(err), errs)
	}
	return seeOther(w, r, "/console/apis?updated="+url.QueryEscape(a.Audience))
}

// confirmData is a confirmation step before something is deleted.
type confirmData struct {
	Question string
	Detail   string
	Action   string
	Hidden   map[string]string
	Button   string
	Cancel   string
}

func (h *Handler) confirmDeleteAPI(w http.ResponseWriter, r *http.Request, s *session) error {
	a, err := h.service.Store().GetAPI(r.Context(), r.URL.Query().Get("audience"))
	if err != nil {
		return err
	}
	if a.BuiltIn {
		h.message(w, s, http.StatusBadRequest, "Cannot delete", "The built-in API "+a.Audience+" cannot be deleted.")
		return nil
	}
	n, err := h.clientsGranted(r, a.Audience)
	if err != nil {
		return err
	}
	d := confirmData{
		Question: "Delete the API " + a.Audience + "?",
		Detail:   fmt.Sprintf("%d client(s) hold a grant on it; from now on their token requests for it are refused. Tokens already issued stay valid until they expire. This cannot be undone.", n),
		Action:   "/console/apis/delete", Hidden: map[string]string{"audience": a.Audience},
		Button: "Delete API", Cancel: "/console/apis",
	}
	h.render(w, http.StatusOK, "confirm", h.page(s, "apis", "Delete API", d))
	return nil
}

func (h *Handler) clientsGranted(r *http.Request, audience string) (int, error) {
	cs, err := h.service.Store().ListClients(r.Context())
	n := 0
	for _, c := range cs {
		if _, ok := c.Grants[audience]; ok {
			n++
		}
	}
	return n, err
}

func (h *Handler) deleteAPI(w http.ResponseWriter, r *http.Request, s *session) error {
	aud := r.PostFormValue("audience")
	if err := h.service.DeleteAPI(r.Context(), aud); err != nil {
		if errors.Is(err, admin.ErrInvalid) {
			h.message(w, s, http.StatusBadRequest, "Cannot delete", sentence(strings.TrimPrefix(err.Error(), admin.ErrInvalid.Error()+": ")))
			return nil
		}
		return err
	}
	return seeOther(w, r, "/console/apis?deleted="+url.QueryEscape(aud))
}
