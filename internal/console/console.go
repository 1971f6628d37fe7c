package console

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/limits"
	"github.com/gatehouse/gatehouse/internal/proxy"
	"github.com/gatehouse/gatehouse/internal/replay"
	"github.com/gatehouse/gatehouse/internal/store"
)

//go:embed templates/*.html static/*
var assets embed.FS

// maxForm bounds a posted form.
const maxForm = 64 << 10

// Usage reports how many tokens a client was issued this hour and today
// (across the nodes, as limits.Limiter counts). A nil Usage shows no counts.
type Usage interface {
	ClientUsage(clientID string) (hour, day int64)
}

// SignIn checks an admin client's credentials and returns its scopes on
// the admin audience (IssuerAuth builds it from a token.Issuer).
type SignIn func(ctx context.Context, clientID, secret string) (scopes []string, err error)

// Config is the console's own configuration.
type Config struct {
	// SessionKey signs session cookies and CSRF tokens: at least 32 bytes,
	// the same on every node that serves one console.
	SessionKey []byte
	// SessionTTL is how long a session lasts; zero means DefaultSessionTTL.
	SessionTTL time.Duration
	// Secure marks cookies Secure even on plain-HTTP requests: set it when
	// a TLS-terminating proxy is in front (direct TLS is detected).
	Secure bool
	// Issuer is the token service's public URL, used in the curl examples.
	Issuer string
	// Proxies decides the address failed sign-ins are counted against
	// (nil: the connection's peer).
	Proxies *proxy.Trust
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Handler serves the console under /console/.
type Handler struct {
	cfg      Config
	service  *admin.Service
	keyRing  admin.KeyRotator
	usage    Usage // nil: no counts shown
	signIn   SignIn
	throttle *limits.AuthThrottle
	log      *slog.Logger
	now      func() time.Time
	pages    map[string]*template.Template
	used     *replay.Cache // spends one-time link codes
}

// New returns the console over svc. keys lists and rotates signing keys;
// usage shows token counts (nil: none); signIn checks sign-ins, and
// throttle counts failed ones: pass the token endpoint's, so that guesses
// count the same wherever they are made; used spends one-time sign-in
// links, across nodes when it is shared.
func New(cfg Config, svc *admin.Service, keys admin.KeyRotator, usage Usage, signIn SignIn,
	throttle *limits.AuthThrottle, used *replay.Cache, log *slog.Logger) (*Handler, error) {
	if len(cfg.SessionKey) < 32 {
		return nil, errors.New("console: the session key must be at least 32 bytes")
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Handler{
		cfg: cfg, service: svc, keyRing: keys, usage: usage, signIn: signIn, throttle: throttle, log: log, now: now,
		pages: parsePages(), used: used,
	}, nil
}

// Mount adds the console's routes under /console/ to mux.
func (h *Handler) Mount(mux *http.ServeMux) {
	read, write := h.guard(store.ScopeRead), h.guard(store.ScopeWrite)
	static, _ := fs.Sub(assets, "static")
	mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", staticFiles(http.FileServerFS(static))))
	mux.HandleFunc("GET /console", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /console/signin", h.signinPage)
	mux.HandleFunc("POST /console/signin", h.signin)
	mux.HandleFunc("GET /console/link", h.linkPage)
	mux.HandleFunc("POST /console/link", h.useLink)
	mux.Handle("POST /console/signout", read(h.signout))
	mux.Handle("GET /console/{$}", read(h.home))
	mux.Handle("GET /console/tenants", read(h.tenants))
	mux.Handle("POST /console/tenants", write(h.createTenant))
	mux.Handle("POST /console/environments", write(h.createEnvironment))
	mux.Handle("GET /console/apis", read(h.apis))
	mux.Handle("GET /console/apis/new", read(h.newAPI))
	mux.Handle("POST /console/apis/new", write(h.createAPI))
	mux.Handle("GET /console/apis/edit", read(h.editAPI))
	mux.Handle("POST /console/apis/edit", write(h.updateAPI))
	mux.Handle("GET /console/apis/delete", read(h.confirmDeleteAPI))
	mux.Handle("POST /console/apis/delete", write(h.deleteAPI))
	mux.Handle("GET /console/clients", read(h.clients))
	mux.Handle("GET /console/clients/new", read(h.newClient))
	mux.Handle("POST /console/clients/new", write(h.createClient))
	mux.Handle("GET /console/clients/{id}", read(h.client))
	mux.Handle("POST /console/clients/{id}/rotate", write(h.rotateSecret))
	mux.Handle("POST /console/clients/{id}/auth", write(h.updateAuth))
	mux.Handle("POST /console/clients/{id}/disable", write(h.setDisabled(true)))
	mux.Handle("POST /console/clients/{id}/enable", write(h.setDisabled(false)))
	mux.Handle("GET /console/clients/{id}/delete", read(h.confirmDeleteClient))
	mux.Handle("POST /console/clients/{id}/delete", write(h.deleteClient))
	mux.Handle("GET /console/keys", read(h.keys))
	mux.Handle("POST /console/keys/rotate", write(h.rotateKeys))
	mux.Handle("GET /console/audit", read(h.audit))
	h.mountTrusts(mux, read, write)
	mux.Handle("/console/", read(func(http.ResponseWriter, *http.Request, *session) error {
		return store.ErrNotFound
	}))
}

// pageFunc is a signed-in page or form handler; it returns its error for
// one place to show.
type pageFunc func(w http.ResponseWriter, r *http.Request, s *session) error

// guard runs fn for a signed-in user holding scope. Signed out, it
// redirects to the sign-in page; a POST must carry the session's CSRF
// token. Changes made by fn are recorded as the signed-in client's.
func (h *Handler) guard(scope string) func(pageFunc) http.Handler {
	return func(fn pageFunc) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			securityHeaders(w)
			s, err := h.currentSession(r)
			if err != nil {
				if _, err := r.Cookie(sessionCookie); err == nil {
					h.setCookie(w, r, sessionCookie, "", -1)
				}
				h.toSignin(w, r)
				return
			}
			if r.Method == http.MethodPost {
				r.Body = http.MaxBytesReader(w, r.Body, maxForm)
				if err := r.ParseForm(); err != nil {
					h.message(w, s, http.StatusBadRequest, "Bad form", "The form could not be read. Go back and try again.")
					return
				}
				if !h.validCSRF(r, s) {
					h.message(w, s, http.StatusForbidden, "Form expired", "This form has expired or did not come from this console. Go back, reload the page and try again.")
					return
				}
			}
			if !s.can(scope) {
				h.message(w, s, http.StatusForbidden, "Read-only access", "You are signed in with admin:read only; this change needs admin:write.")
				return
			}
			r = r.WithContext(admin.WithActor(r.Context(), s.ClientID))
			if err := fn(w, r, s); err != nil {
				h.fail(w, r, s, err)
			}
		})
	}
}

// toSignin redirects to the sign-in page, which comes back here after.
func (h *Handler) toSignin(w http.ResponseWriter, r *http.Request) {
	target := "/console/signin"
	if r.Method == http.MethodGet && r.URL.Path != "/console/" {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// fail shows an error that is not the user's to fix next to a field.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.message(w, s, http.StatusNotFound, "Not found", "There is nothing here: it may have been deleted, or the address is wrong.")
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		h.log.ErrorContext(r.Context(), "console request failed: store unavailable", "path", r.URL.Path, "err", err)
		h.message(w, s, http.StatusServiceUnavailable, "Database unavailable", "The database cannot be reached; nothing was changed. Try again in a moment.")
	default:
		h.log.ErrorContext(r.Context(), "console request failed", "path", r.URL.Path, "err", err)
		h.message(w, s, http.StatusInternalServerError, "Something went wrong", "The server could not complete the request. The details are in its log.")
	}
}

// securityHeaders are on every console page: nothing from elsewhere, no
// framing, no referrer, no caching.
func securityHeaders(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
}

// staticFiles serves the embedded stylesheet and script.
func staticFiles(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

// page is what every template gets.
type page struct {
	Title    string
	Nav      string
	User     *session
	CSRF     string
	CanWrite bool
	Notice   string
	Errors   map[string]string
	Data     any
}

func (h *Handler) page(s *session, nav, title string, data any) *page {
	p := &page{Title: title, Nav: nav, User: s, Data: data, Errors: map[string]string{}}
	if s != nil {
		p.CSRF = h.csrfToken(s)
		p.CanWrite = s.can(store.ScopeWrite)
	}
	return p
}

// render draws a page into a buffer first, so a template error is a clean 500.
func (h *Handler) render(w http.ResponseWriter, status int, name string, p *page) {
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		h.log.Error("console template failed", "page", name, "err", err)
		http.Error(w, "The console could not draw this page.", http.StatusInternalServerError)
		return
	}
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// message shows a page with a title and one plain sentence.
func (h *Handler) message(w http.ResponseWriter, s *session, status int, title, text string) {
	h.render(w, status, "message", h.page(s, "", title, text))
}

// seeOther redirects after a successful change (post/redirect/get).
func seeOther(w http.ResponseWriter, r *http.Request, target string) error {
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// safeNext keeps a post-sign-in redirect inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/console/") || strings.ContainsAny(next, "\\") || strings.HasPrefix(next, "//") {
		return "/console/"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/console/"
	}
	return next
}
