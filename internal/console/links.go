package console

import (
	"crypto/sha256"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// LinkTTL is how long a one-time sign-in link can be used.
const LinkTTL = 10 * time.Minute

// maxLinks bounds the codes held in memory.
const maxLinks = 1000

// link is what a one-time code signs in as.
type link struct {
	clientID string
	scopes   []string
	expires  time.Time
}

// linkStore holds this node's unused codes, by their SHA-256.
type linkStore struct {
	mu    sync.Mutex
	codes map[[32]byte]link
}

func newLinkStore() *linkStore { return &linkStore{codes: map[[32]byte]link{}} }

// add keeps a code, dropping expired ones; false when too many are live.
func (l *linkStore) add(code string, lk link, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, v := range l.codes {
		if !now.Before(v.expires) {
			delete(l.codes, k)
		}
	}
	if len(l.codes) >= maxLinks {
		return false
	}
	l.codes[sha256.Sum256([]byte(code))] = lk
	return true
}

// get returns a code's link if it is live; take also uses it up.
func (l *linkStore) get(code string, now time.Time, take bool) (link, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := sha256.Sum256([]byte(code))
	lk, ok := l.codes[k]
	if take {
		delete(l.codes, k)
	}
	if !ok || !now.Before(lk.expires) {
		return link{}, false
	}
	return lk, true
}

// CreateLink answers POST /admin/v1/console/links: a one-time sign-in link
// for the admin client that calls it. Mount it behind the admin API's
// bearer-token check for admin:write, which names the caller with
// admin.WithActor. The answer is {"url", "path", "expires_at"}; url is
// built from the address the request came to.
func (h *Handler) CreateLink(w http.ResponseWriter, r *http.Request) {
	actor := admin.Actor(r.Context())
	c, ok := h.service.Catalog().Client(actor)
	if actor == "" || !ok || c.Disabled {
		oauth.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "A sign-in link is made for the admin client that asks for it; none was authenticated."})
		return
	}
	scopes := adminScopes(c.Grants[store.AdminAudience])
	now := h.now()
	code := randomToken()
	if !h.links.add(code, link{clientID: actor, scopes: scopes, expires: now.Add(LinkTTL)}, now) {
		oauth.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable", "error_description": "Too many unused sign-in links; try again in a few minutes."})
		return
	}
	scheme := "http"
	if r.TLS != nil || h.cfg.Secure {
		scheme = "https"
	}
	path := "/console/link?code=" + code
	w.Header().Set("Cache-Control", "no-store")
	oauth.WriteJSON(w, http.StatusCreated, map[string]any{
		"url": scheme + "://" + r.Host + path, "path": path, "expires_at": now.Add(LinkTTL).UTC(),
	})
}

// linkData is the link page's data.
type linkData struct {
	Code     string
	ClientID string
}

// linkPage asks the user to confirm before the code is used, so a link
// preview or a prefetch does not spend it.
func (h *Handler) linkPage(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("code")
	lk, ok := h.links.get(code, h.now(), false)
	if !ok {
		h.badLink(w)
		return
	}
	p := h.page(nil, "", "Sign in with a link", linkData{Code: code, ClientID: lk.clientID})
	p.CSRF = h.preToken(w, r)
	h.render(w, http.StatusOK, "link", p)
}

// useLink spends a code and starts a session as the client that made it.
func (h *Handler) useLink(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil || !h.validCSRF(r, nil) {
		h.message(w, nil, http.StatusForbidden, "Form expired", "This form has expired. Open the sign-in link again.")
		return
	}
	lk, ok := h.links.get(strings.TrimSpace(r.PostFormValue("code")), h.now(), true)
	if !ok {
		h.badLink(w)
		return
	}
	if c, ok := h.service.Catalog().Client(lk.clientID); !ok || c.Disabled {
		h.badLink(w)
		return
	}
	h.startSession(w, r, lk.clientID, lk.scopes)
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
}

func (h *Handler) badLink(w http.ResponseWriter) {
	h.message(w, nil, http.StatusUnauthorized, "Link not valid", "This sign-in link has expired or was already used. Run `gatehouse console link` for a new one, or sign in with a client id and secret.")
}
