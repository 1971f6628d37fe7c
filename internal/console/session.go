package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// Cookie names. The pre-session cookie carries the CSRF secret of the
// signed-out forms (sign-in, one-time link), so nobody can sign a browser
// into someone else's session from another site.
const (
	sessionCookie = "gatehouse_console"
	preCookie     = "gatehouse_console_pre"
	cookiePath    = "/console/"
	csrfField     = "csrf"
)

// DefaultSessionTTL is how long a console session lasts.
const DefaultSessionTTL = 8 * time.Hour

var errBadSession = errors.New("console: no valid session")

// session is what the signed cookie holds: who signed in, what they may
// do, until when, and a random id that the CSRF token is derived from.
type session struct {
	ClientID string   `json:"sub"`
	Scopes   []string `json:"scp"`
	Expires  int64    `json:"exp"`
	ID       string   `json:"sid"`
}

func (s *session) can(scope string) bool { return slices.Contains(s.Scopes, scope) }

// mac is HMAC-SHA256 under the session key of a purpose label and parts,
// each length-framed so different inputs never collide.
func (h *Handler) mac(purpose string, parts ...string) []byte {
	m := hmac.New(sha256.New, h.cfg.SessionKey)
	for _, p := range append([]string{purpose}, parts...) {
		m.Write(binary.BigEndian.AppendUint32(nil, uint32(len(p))))
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

var b64 = base64.RawURLEncoding

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return b64.EncodeToString(b)
}

// encodeSession returns the cookie value: payload "." signature.
func (h *Handler) encodeSession(s session) string {
	payload, _ := json.Marshal(s)
	p := b64.EncodeToString(payload)
	return p + "." + b64.EncodeToString(h.mac("session", p))
}

// decodeSession checks a cookie value's signature and expiry.
func (h *Handler) decodeSession(value string) (*session, error) {
	p, sig, ok := strings.Cut(value, ".")
	if !ok {
		return nil, errBadSession
	}
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, h.mac("session", p)) {
		return nil, errBadSession
	}
	payload, err := b64.DecodeString(p)
	if err != nil {
		return nil, errBadSession
	}
	var s session
	if err := json.Unmarshal(payload, &s); err != nil || s.ClientID == "" || s.ID == "" {
		return nil, errBadSession
	}
	if !h.now().Before(time.Unix(s.Expires, 0)) {
		return nil, errBadSession
	}
	return &s, nil
}

// currentSession returns the request's session after checking that its
// client still exists, is enabled and still holds admin:read; its scopes
// are narrowed to the client's admin grant as it is now.
func (h *Handler) currentSession(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, errBadSession
	}
	s, err := h.decodeSession(c.Value)
	if err != nil {
		return nil, err
	}
	client, ok := h.service.Catalog().Client(s.ClientID)
	if !ok || client.Disabled || client.IssuedTooEarly(time.Unix(s.Expires, 0).Add(-h.sessionTTL())) {
		return nil, errBadSession
	}
	granted := client.Grants[store.AdminAudience]
	s.Scopes = slices.DeleteFunc(s.Scopes, func(sc string) bool { return !slices.Contains(granted, sc) })
	if !s.can(store.ScopeRead) {
		return nil, errBadSession
	}
	return s, nil
}

// startSession sets the session cookie for clientID with scopes.
func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, clientID string, scopes []string) {
	ttl := h.sessionTTL()
	s := session{ClientID: clientID, Scopes: scopes, Expires: h.now().Add(ttl).Unix(), ID: randomToken()}
	h.setCookie(w, r, sessionCookie, h.encodeSession(s), int(ttl/time.Second))
	h.setCookie(w, r, preCookie, "", -1)
}

// setCookie sets (maxAge > 0) or clears (maxAge < 0) a console cookie:
// HttpOnly, SameSite=Strict, scoped to /console/, and Secure when the
// console is served over TLS (here, or by a proxy in front: h.cfg.Secure).
func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: cookiePath, MaxAge: maxAge,
		HttpOnly: true, Secure: h.cfg.Secure || r.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
}

// csrfToken is the hidden-field value of a signed-in form.
func (h *Handler) csrfToken(s *session) string { return b64.EncodeToString(h.mac("csrf", s.ID)) }

// preToken returns the hidden-field value of a signed-out form, setting
// the pre-session cookie it is derived from when the browser has none.
func (h *Handler) preToken(w http.ResponseWriter, r *http.Request) string {
	nonce := ""
	if c, err := r.Cookie(preCookie); err == nil && len(c.Value) >= 32 {
		nonce = c.Value
	} else {
		nonce = randomToken()
		h.setCookie(w, r, preCookie, nonce, 3600)
	}
	return b64.EncodeToString(h.mac("csrf-pre", nonce))
}

// validCSRF checks a posted form's token against the session (or, when s
// is nil, against the pre-session cookie). The form must be parsed.
func (h *Handler) validCSRF(r *http.Request, s *session) bool {
	got, err := b64.DecodeString(r.PostFormValue(csrfField))
	if err != nil || len(got) == 0 {
		return false
	}
	if s != nil {
		return hmac.Equal(got, h.mac("csrf", s.ID))
	}
	c, err := r.Cookie(preCookie)
	if err != nil || len(c.Value) < 32 {
		return false
	}
	return hmac.Equal(got, h.mac("csrf-pre", c.Value))
}

// sessionTTL is how long a session lasts from sign-in.
func (h *Handler) sessionTTL() time.Duration {
	if h.cfg.SessionTTL <= 0 {
		return DefaultSessionTTL
	}
	return h.cfg.SessionTTL
}
