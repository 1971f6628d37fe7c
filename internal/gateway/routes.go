package gateway

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/internal/binding"
	"github.com/gatehouse/gatehouse/internal/dpop"
	"github.com/gatehouse/gatehouse/verify"
)

// route is one configured route, ready to serve.
type route struct {
	cfg      Route
	upstream *url.URL
	verifier *verify.Verifier
	binding  *binding.Checker // the route's rules for bound tokens
	proxy    *httputil.ReverseProxy
	// tokenProxy forwards /{service}/v1/oauth2/token to gatehouse when the
	// route has forward_token_requests.
	tokenProxy *httputil.ReverseProxy
}

// match is a route chosen for a request path.
type match struct {
	route *route
	// prefix is the matched part of the path: the route's path without
	// its trailing slash, or /{service}/v1/{apiKey}.
	prefix string
	// apiKey is the {apiKey} segment of a service route's path.
	apiKey string
	// tokenRequest marks /{service}/v1/oauth2/token on a route that
	// forwards token requests.
	tokenRequest bool
}

// router finds the route of a path: service routes by their first
// segment, then path routes, longest prefix first.
type router struct {
	services map[string]*route
	paths    []*route
}

func newRouter(routes []*route) router {
	r := router{services: map[string]*route{}}
	for _, rt := range routes {
		if rt.cfg.Service != "" {
			r.services[rt.cfg.Service] = rt
		} else {
			r.paths = append(r.paths, rt)
		}
	}
	sort.SliceStable(r.paths, func(i, j int) bool { return len(r.paths[i].cfg.Path) > len(r.paths[j].cfg.Path) })
	return r
}

// match returns the route for a clean path.
func (r router) match(p string) (match, bool) {
	if m, ok := r.matchService(p); ok {
		return m, true
	}
	for _, rt := range r.paths {
		base := strings.TrimSuffix(rt.cfg.Path, "/")
		if p == base || strings.HasPrefix(p, base+"/") {
			return match{route: rt, prefix: base}, true
		}
	}
	return match{}, false
}

// matchService matches /{service}/v1/{apiKey} and anything below it.
func (r router) matchService(p string) (match, bool) {
	segs := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 4)
	if len(segs) < 3 || segs[1] != "v1" || segs[2] == "" {
		return match{}, false
	}
	rt, ok := r.services[segs[0]]
	if !ok {
		return match{}, false
	}
	if rt.tokenProxy != nil && segs[2] == "oauth2" && len(segs) == 4 && segs[3] == "token" {
		return match{route: rt, tokenRequest: true}, true
	}
	return match{route: rt, prefix: "/" + segs[0] + "/v1/" + segs[2], apiKey: segs[2]}, true
}

// forward is what the proxy's Rewrite needs to know about one request.
type forward struct {
	principal *principal
	requestID string
	// path and rawPath replace the request's when the prefix is stripped.
	strip         bool
	path, rawPath string
}

type forwardKey struct{}

// stripped removes prefix from the request's path, from the escaped form
// too (as http.StripPrefix does). ok is false when the escaped path does
// not start with the prefix as written.
func stripped(u *url.URL, prefix string) (path, rawPath string, ok bool) {
	path = strings.TrimPrefix(u.Path, prefix)
	if u.RawPath != "" {
		rest, found := strings.CutPrefix(u.RawPath, prefix)
		if !found {
			return "", "", false
		}
		rawPath = rest
	}
	if path == "" || path[0] != '/' {
		path = "/" + path
		if rawPath != "" {
			rawPath = "/" + rawPath
		}
	}
	return path, rawPath, true
}

// newProxy makes the reverse proxy of a route: it sends the request to
// upstream with the X-Gatehouse-* headers of the token's holder (serve
// removed the caller's, and the outgoing headers are a copy of what is
// left), and, unless the route keeps it, without the Authorization and
// DPoP headers.
func (g *Gateway) newProxy(rt *route, upstream *url.URL, transport http.RoundTripper) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Transport: transport,
		Rewrite: func(pr *httputil.ProxyRequest) {
			f, _ := pr.In.Context().Value(forwardKey{}).(*forward)
			if f == nil {
				f = &forward{}
			}
			if f.strip {
				pr.Out.URL.Path, pr.Out.URL.RawPath = f.path, f.rawPath
			}
			pr.SetURL(upstream)
			pr.SetXForwarded()
			h := pr.Out.Header
			if f.requestID != "" {
				h.Set("X-Request-Id", f.requestID)
			}
			if p := f.principal; p != nil {
				setIf(h, headerClientID, p.ClientID)
				setIf(h, headerTenant, p.Tenant)
				setIf(h, headerEnvironment, p.Environment)
				setIf(h, headerScopes, strings.Join(p.Scopes, " "))
			}
			if rt.cfg.ForwardAuthorization != nil && !*rt.cfg.ForwardAuthorization {
				h.Del("Authorization")
				h.Del(dpop.Header)
			}
		},
		ErrorHandler: g.upstreamError(rt),
	}
}

// The headers the upstream receives about the token's holder.
const (
	headerClientID    = "X-Gatehouse-Client-Id"
	headerTenant      = "X-Gatehouse-Tenant"
	headerEnvironment = "X-Gatehouse-Environment"
	headerScopes      = "X-Gatehouse-Scopes"
)

func setIf(h http.Header, name, value string) {
	if value != "" {
		h.Set(name, value)
	}
}

// removeHeaders deletes, in one pass over h, every X-Gatehouse-* header
// and the header named also (none when empty), each also when spelled
// with underscores: some upstream frameworks read X_Gatehouse_Tenant as
// X-Gatehouse-Tenant.
func removeHeaders(h http.Header, also string) {
	also = strings.ToLower(strings.ReplaceAll(also, "_", "-"))
	for name := range h {
		n := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
		if strings.HasPrefix(n, "x-gatehouse-") || (also != "" && n == also) {
			delete(h, name)
		}
	}
}

// upstreamError answers 502 when the upstream cannot be reached or does
// not answer in time. The error text names no URL (ReverseProxy calls the
// transport directly), so it holds no query string.
func (g *Gateway) upstreamError(rt *route) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		if r.Context().Err() != nil {
			g.log.DebugContext(r.Context(), "caller went away before the upstream answered", "route", rt.cfg.Name)
			w.WriteHeader(499) // nginx's "client closed request", for the access log only
			return
		}
		g.log.WarnContext(r.Context(), "upstream failed", "route", rt.cfg.Name, "err", err)
		writeError(w, http.StatusBadGateway, "bad_gateway", "The upstream service did not answer.")
	}
}
