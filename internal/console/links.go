package console

import (
	"crypto/hmac"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/replay"
	"github.com/gatehouse/gatehouse/internal/store"
)

// LinkTTL is how long a one-time sign-in link can be used.
const LinkTTL = 10 * time.Minute

// link is what a one-time code signs in as. The code is the link itself,
// signed with the session key, so any node sharing that key opens it; its
// nonce is spent through the single-use cache, shared by every node on
// one database, so a code signs in once wherever it is used.
type link struct {
	ClientID string   `json:"sub"`
	Scopes   []string `json:"scp"`
	Expires  int64    `json:"exp"`
	Nonce    string   `json:"jti"`
}

// maxCodeBytes bounds a code read from a request.
const maxCodeBytes = 2048

func (h *Handler) encodeLink(lk link) string {
	payload, _ := json.Marshal(lk)
	p := b64.EncodeToString(payload)
	return p + "." + b64.EncodeToString(h.mac("console link v1", p))
}

// decodeLink returns a code's link if its signature holds and it is live.
func (h *Handler) decodeLink(code string, now time.Time) (link, bool) {
	p, sig, ok := strings.Cut(code, ".")
	if !ok || len(code) > maxCodeBytes {
		return link{}, false
	}
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, h.mac("console link v1", p)) {
		return link{}, false
	}
	payload, err := b64.DecodeString(p)
	var lk link
	if err != nil || json.Unmarshal(payload, &lk) != nil || lk.Nonce == "" || !now.Before(time.Unix(lk.Expires, 0)) {
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
	code := h.encodeLink(link{ClientID: actor, Scopes: scopes, Expires: now.Add(LinkTTL).Unix(), Nonce: randomToken()})
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
	lk, ok := h.decodeLink(code, h.now())
	if !ok {
		h.badLink(w)
		return
	}
	p := h.page(nil, "", "Sign in with a link", linkData{Code: code, ClientID: lk.ClientID})
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
	lk, ok := h.decodeLink(strings.TrimSpace(r.PostFormValue("code")), h.now())
	if !ok {
		h.badLink(w)
		return
	}
	if err := h.used.Use(r.Context(), replay.ID{Key: "console-link:" + lk.Nonce, ExpiresAt: time.Unix(lk.Expires, 0)}); err != nil {
		h.badLink(w)
		return
	}
	if c, ok := h.service.Catalog().Client(lk.ClientID); !ok || c.Disabled || c.IssuedTooEarly(time.Unix(lk.Expires, 0).Add(-LinkTTL)) {
		h.badLink(w)
		return
	}
	h.startSession(w, r, lk.ClientID, lk.Scopes)
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
}

func (h *Handler) badLink(w http.ResponseWriter) {
	h.message(w, nil, http.StatusUnauthorized, "Link not valid", "This sign-in link has expired or was already used. Run `gatehouse console link` for a new one, or sign in with a client id and secret.")
}
