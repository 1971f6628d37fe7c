package token

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/mtls"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/proxy"
	"github.com/gatehouse/gatehouse/internal/secret"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Handler serves the token endpoints: POST /oauth/token and the
// per-service POST /{service}/v1/oauth2/token, plus introspection,
// revocation and the revocation list.
type Handler struct {
	issuer   *Issuer
	proxies  *proxy.Trust
	certs    mtls.Source
	observer Observer
	log      *slog.Logger
	// endpoints are the URLs of the fixed endpoints by path, made once.
	endpoints map[string]string
}

// NewHandler serves iss's endpoints. proxies decides the caller's address
// (nil: the connection's peer); certHeader names the header a trusted
// TLS-terminating proxy puts the client's certificate in ("": none, only
// certificates of TLS connections to gatehouse count); observer hears
// every outcome (audit, metrics; nil: nobody).
func NewHandler(iss *Issuer, proxies *proxy.Trust, certHeader string, observer Observer, log *slog.Logger) *Handler {
	if observer == nil {
		observer = nopObserver{}
	}
	endpoints := map[string]string{}
	for _, p := range []string{"/oauth/token", "/oauth/introspect", "/oauth/revoke", "/oauth/revocations"} {
		endpoints[p] = iss.base + p
	}
	return &Handler{issuer: iss, proxies: proxies, certs: mtls.Source{Header: certHeader, Proxies: proxies},
		observer: observer, log: log, endpoints: endpoints}
}

// endpointURL is the URL clients address the endpoint at path by.
func (h *Handler) endpointURL(path string) string {
	if u, ok := h.endpoints[path]; ok {
		return u
	}
	return h.issuer.base + path
}

// parse reads a request to one of the endpoints, with what the
// connection says: the client certificate and the endpoint's URL.
func (h *Handler) parse(w http.ResponseWriter, r *http.Request, opts oauth.ParseOptions) (oauth.TokenRequest, error) {
	req, err := oauth.ParseTokenRequest(w, r, opts)
	if err != nil {
		return req, err
	}
	req.EndpointURL = h.endpointURL(r.URL.Path)
	if req.ClientCert, req.CertChain, err = h.certs.Certificate(r); err != nil {
		return req, oauth.ErrInvalidRequest("The client certificate forwarded by the proxy could not be read.").WithCause(err)
	}
	return req, nil
}

// Observer hears what the token endpoints did.
type Observer interface {
	Issued(r *http.Request, g *Grant, addr string)
	Refused(r *http.Request, e *oauth.Error)
}

type nopObserver struct{}

func (nopObserver) Issued(*http.Request, *Grant, string) {}
func (nopObserver) Refused(*http.Request, *oauth.Error)  {}

func (h *Handler) addr(r *http.Request) string { return h.proxies.ClientAddr(r) }

// ServiceFromPath returns the service of a per-service token path
// (/{service}/v1/oauth2/token).
func ServiceFromPath(path string) (string, bool) {
	rest, ok := strings.CutSuffix(path, "/v1/oauth2/token")
	if !ok || !strings.HasPrefix(rest, "/") || strings.Count(rest, "/") != 1 || len(rest) < 2 {
		return "", false
	}
	return rest[1:], true
}

// ServeHTTP answers POST /oauth/token: the documents' four fields with
// Cache-Control: no-store, or an RFC 6749 §5.2 error.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.serveToken(w, r, "")
}

// ServeService answers POST /{service}/v1/oauth2/token. Parameters may come
// in the query string here, as the gateway document sends them.
func (h *Handler) ServeService(w http.ResponseWriter, r *http.Request, service string) {
	h.serveToken(w, r, service)
}

func (h *Handler) serveToken(w http.ResponseWriter, r *http.Request, service string) {
	if r.Method != http.MethodPost {
		oauth.WriteError(w, oauth.ErrMethodNotAllowed())
		return
	}
	req, err := h.parse(w, r, oauth.ParseOptions{AllowQuery: service != ""})
	if err != nil {
		h.fail(w, r, req, err)
		return
	}
	addr := h.addr(r)
	out, err := h.issuer.Token(r.Context(), req, service, addr)
	if err != nil {
		h.fail(w, r, req, err)
		return
	}
	if out.Limited {
		for k, v := range out.Budget.Headers() {
			w.Header().Set(k, v)
		}
	}
	h.observer.Issued(r, out.Grant, addr)
	writeResponse(w, out.Response)
}

func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

// Introspect answers POST /oauth/introspect (RFC 7662).
func (h *Handler) Introspect(w http.ResponseWriter, r *http.Request) {
	req, ok := h.parsePost(w, r)
	if !ok {
		return
	}
	out, err := h.issuer.Introspect(r.Context(), req, h.addr(r))
	if err != nil {
		h.fail(w, r, req, err)
		return
	}
	noStore(w)
	oauth.WriteJSON(w, http.StatusOK, out)
}

// Revoke answers POST /oauth/revoke (RFC 7009).
func (h *Handler) Revoke(w http.ResponseWriter, r *http.Request) {
	req, ok := h.parsePost(w, r)
	if !ok {
		return
	}
	if err := h.issuer.Revoke(r.Context(), req, h.addr(r)); err != nil {
		h.fail(w, r, req, err)
		return
	}
	noStore(w)
	w.WriteHeader(http.StatusOK)
}

// Revocations answers POST /oauth/revocations: the revoked JWT ids since
// the unix time in "since", for a client holding the introspection grant.
func (h *Handler) Revocations(w http.ResponseWriter, r *http.Request) {
	req, ok := h.parsePost(w, r)
	if !ok {
		return
	}
	var since time.Time
	if s := r.URL.Query().Get("since"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			h.fail(w, r, req, oauth.ErrInvalidRequest("since must be a unix time."))
			return
		}
		since = time.Unix(n, 0)
	}
	revs, err := h.issuer.RevokedSince(r.Context(), req, h.addr(r), since)
	if err != nil {
		h.fail(w, r, req, err)
		return
	}
	noStore(w)
	oauth.WriteJSON(w, http.StatusOK, struct {
		Revocations []store.Revocation `json:"revocations"`
		Now         int64              `json:"now"`
	}{revs, h.issuer.now().Unix()})
}

func (h *Handler) parsePost(w http.ResponseWriter, r *http.Request) (oauth.TokenRequest, bool) {
	if r.Method != http.MethodPost {
		oauth.WriteError(w, oauth.ErrMethodNotAllowed())
		return oauth.TokenRequest{}, false
	}
	req, err := h.parse(w, r, oauth.ParseOptions{})
	if err != nil {
		h.fail(w, r, req, err)
		return req, false
	}
	return req, true
}

// fail writes the error and logs it without any credential: client ids are
// not secret, secrets and tokens never appear. The client logged is the
// one the request names, by client_id or else by its credential (a client
// assertion's sub, unverified).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, req oauth.TokenRequest, err error) {
	e := oauth.AsError(err)
	h.observer.Refused(r, e)
	level := slog.LevelInfo
	if e.Status >= 500 {
		level = slog.LevelError
	}
	h.log.LogAttrs(r.Context(), level, "token request refused",
		slog.String("error", e.Code), slog.Int("status", e.Status),
		slog.String("client_id", logSafe(h.issuer.method(&req).clientID(&req))), slog.Any("cause", e.Cause))
	oauth.WriteError(w, e)
}

// logSafe bounds what a caller-chosen string may put in a log line. A
// value that looks like a gatehouse secret (a client that swapped its id
// and secret) is not logged at all.
func logSafe(s string) string {
	if strings.HasPrefix(s, secret.Prefix) {
		return "(a secret, not logged)"
	}
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
