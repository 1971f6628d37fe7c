package console

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/token"
)

// ErrNotAdmin is what Auth returns for a client with no admin grant.
var ErrNotAdmin = errors.New("console: the client has no grant on " + store.AdminAudience)

// IssuerAuth checks console sign-ins the way the token endpoint checks a
// client (same secrets, same refusal of disabled clients) and returns the
// client's scopes on the admin audience.
func IssuerAuth(iss *token.Issuer) SignIn {
	return func(ctx context.Context, clientID, secret string) ([]string, error) {
		c, err := iss.Authenticate(ctx, oauth.TokenRequest{ClientID: clientID, ClientSecret: secret})
		if err != nil {
			return nil, err
		}
		scopes, ok := c.Grants[store.AdminAudience]
		if !ok {
			return nil, ErrNotAdmin
		}
		return scopes, nil
	}
}

// signinForm is the sign-in page's data.
type signinForm struct {
	ClientID string
	Next     string
}

func (h *Handler) signinPage(w http.ResponseWriter, r *http.Request) {
	if _, err := h.currentSession(r); err == nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	p := h.page(nil, "", "Sign in", signinForm{Next: safeNext(r.URL.Query().Get("next"))})
	p.CSRF = h.preToken(w, r)
	if r.URL.Query().Has("signed-out") {
		p.Notice = "You are signed out."
	}
	h.render(w, http.StatusOK, "signin", p)
}

// signin checks an admin client's credentials and starts a session. A
// failure is 401 with the form again; repeated failures for one client id
// or from one address are refused for a while (429) before Auth runs, by
// the token endpoint's rule (limits.Throttle).
func (h *Handler) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil || !h.validCSRF(r, nil) {
		h.message(w, nil, http.StatusForbidden, "Form expired", "This sign-in form has expired. Go back, reload the page and sign in again.")
		return
	}
	form := signinForm{ClientID: strings.TrimSpace(r.PostFormValue("client_id")), Next: safeNext(r.PostFormValue("next"))}
	secret := strings.TrimSpace(r.PostFormValue("client_secret"))
	again := func(status int, errs map[string]string) {
		p := h.page(nil, "", "Sign in", form)
		p.CSRF, p.Errors = h.preToken(w, r), errs
		h.render(w, status, "signin", p)
	}
	if form.ClientID == "" || secret == "" {
		errs := map[string]string{}
		if form.ClientID == "" {
			errs["client_id"] = "Enter the admin client's client_id."
		}
		if secret == "" {
			errs["client_secret"] = "Enter the client's secret."
		}
		again(http.StatusUnauthorized, errs)
		return
	}
	addr := h.cfg.Proxies.ClientAddr(r)
	if wait := h.throttle.Blocked(form.ClientID, addr); wait > 0 {
		secs := strconv.Itoa(int(math.Ceil(wait.Seconds())))
		w.Header().Set("Retry-After", secs)
		again(http.StatusTooManyRequests, map[string]string{"": "Too many failed sign-ins. Wait " + secs + " seconds and try again."})
		return
	}
	scopes, err := h.signIn(r.Context(), form.ClientID, secret)
	if err == nil && !slices.Contains(scopes, store.ScopeRead) {
		err = ErrNotAdmin
	}
	if err != nil {
		h.throttle.Failed(form.ClientID, addr)
		msg := "The client_id or client_secret is wrong, or the client is disabled."
		if errors.Is(err, ErrNotAdmin) {
			msg = "This client may not use the console: it needs the scope admin:read on " + store.AdminAudience + "."
		}
		again(http.StatusUnauthorized, map[string]string{"": msg})
		return
	}
	h.startSession(w, r, form.ClientID, adminScopes(scopes))
	http.Redirect(w, r, form.Next, http.StatusSeeOther)
}

// adminScopes keeps the scopes the console acts on.
func adminScopes(scopes []string) []string {
	var out []string
	for _, s := range []string{store.ScopeRead, store.ScopeWrite} {
		if slices.Contains(scopes, s) {
			out = append(out, s)
		}
	}
	return out
}

func (h *Handler) signout(w http.ResponseWriter, r *http.Request, _ *session) error {
	h.setCookie(w, r, sessionCookie, "", -1)
	return seeOther(w, r, "/console/signin?signed-out")
}
