package gateway

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"testing"
	"time"
)

func TestRouterMatch(t *testing.T) {
	routes := []*route{
		{cfg: Route{Name: "orders", Path: "/orders/"}},
		{cfg: Route{Name: "orders-admin", Path: "/orders/admin/"}},
		{cfg: Route{Name: "root", Path: "/static"}},
		{cfg: Route{Name: "property", Service: "streaming-property"}},
		{cfg: Route{Name: "view", Service: "streaming-view"}},
	}
	routes[4].tokenProxy = newTestProxy()
	r := newRouter(routes)
	tests := []struct {
		path, route, prefix, apiKey string
		tokenRequest                bool
	}{
		{"/orders/1", "orders", "/orders", "", false},
		{"/orders", "orders", "/orders", "", false},
		{"/ordersx", "", "", "", false},
		{"/orders/admin/x", "orders-admin", "/orders/admin", "", false},
		{"/static", "root", "/static", "", false},
		{"/static/a.css", "root", "/static", "", false},
		{"/streaming-property/v1/KEY", "property", "/streaming-property/v1/KEY", "KEY", false},
		{"/streaming-property/v1/KEY/collections/product", "property", "/streaming-property/v1/KEY", "KEY", false},
		{"/streaming-property/v1/", "", "", "", false},
		{"/streaming-property/v2/KEY/x", "", "", "", false},
		{"/streaming-property/v1/oauth2/token", "property", "/streaming-property/v1/oauth2", "oauth2", false},
		{"/streaming-view/v1/oauth2/token", "view", "", "", true},
		{"/streaming-view/v1/oauth2/token/x", "view", "/streaming-view/v1/oauth2", "oauth2", false},
		{"/other/v1/KEY", "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			m, ok := r.match(tt.path)
			got := ""
			if ok {
				got = m.route.cfg.Name
			}
			if got != tt.route || m.prefix != tt.prefix || m.apiKey != tt.apiKey || m.tokenRequest != tt.tokenRequest {
				t.Errorf("got route %q prefix %q apiKey %q token %v, want %q %q %q %v",
					got, m.prefix, m.apiKey, m.tokenRequest, tt.route, tt.prefix, tt.apiKey, tt.tokenRequest)
			}
		})
	}
}

func TestStripped(t *testing.T) {
	tests := []struct {
		raw, prefix, path, rawPath string
		ok                         bool
	}{
		{"/orders/1", "/orders", "/1", "", true},
		{"/orders", "/orders", "/", "", true},
		{"/orders/a%2Fb", "/orders", "/a/b", "/a%2Fb", true},
		{"/ord%65rs/a%2Fb", "/orders", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			u, err := url.Parse(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			path, rawPath, ok := stripped(u, tt.prefix)
			if path != tt.path || rawPath != tt.rawPath || ok != tt.ok {
				t.Errorf("got %q %q %v, want %q %q %v", path, rawPath, ok, tt.path, tt.rawPath, tt.ok)
			}
		})
	}
}

func TestRemoveHeaders(t *testing.T) {
	incoming := func() http.Header {
		return http.Header{
			"X-Gatehouse-Tenant": {"evil"}, "X_gatehouse_tenant": {"evil"}, "X-Gatehouse-New": {"x"},
			"X-Gatehousex": {"kept"}, "Authorization": {"Bearer t"},
			"X-Ssl-Client-Cert": {"forged"}, "X_ssl_client_cert": {"forged"},
		}
	}
	tests := []struct {
		name, also string
		want       []string
	}{
		{"gatehouse headers only", "", []string{"Authorization", "X-Gatehousex", "X-Ssl-Client-Cert", "X_ssl_client_cert"}},
		{"and the certificate header", "X-SSL-Client-Cert", []string{"Authorization", "X-Gatehousex"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := incoming()
			removeHeaders(h, tt.also)
			got := slices.Sorted(maps.Keys(h))
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestCacheLifetime checks how long answers are cached: active ones for
// the TTL but never past their exp, inactive ones for the inactive TTL.
func TestCacheLifetime(t *testing.T) {
	t0 := time.Unix(1_750_000_000, 0)
	tests := []struct {
		name   string
		answer introspection
		want   time.Duration
	}{
		{"active, long life", introspection{Active: true, Expiry: t0.Add(time.Hour).Unix()}, 30 * time.Second},
		{"active, expiring soon", introspection{Active: true, Expiry: t0.Add(10 * time.Second).Unix()}, 10 * time.Second},
		{"active, expired", introspection{Active: true, Expiry: t0.Add(-time.Second).Unix()}, 0},
		{"inactive", introspection{}, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := t0
			c := newIntrospectionCache(nil, 30*time.Second, 5*time.Second, time.Second)
			c.now = func() time.Time { return now }
			c.put("k", tt.answer)
			var lived time.Duration
			for ; ; lived += time.Second {
				now = t0.Add(lived)
				if _, ok := c.get("k"); !ok {
					break
				}
			}
			if lived != tt.want {
				t.Errorf("cached for %v, want %v", lived, tt.want)
			}
		})
	}
}

// TestAccessToken pins how the gateway reads package bearer's answer:
// Bearer and DPoP are tokens, another scheme is no token, as no header is.
func TestAccessToken(t *testing.T) {
	tests := []struct {
		name               string
		authorization      []string
		token              string
		present, malformed bool
	}{
		{"token", []string{"bearer abc"}, "abc", true, false},
		{"DPoP token", []string{"DPoP abc"}, "abc", true, false},
		{"no header", nil, "", false, false},
		{"another scheme", []string{"Basic YTpi"}, "", false, false},
		{"empty token", []string{"Bearer "}, "", true, true},
		{"two headers", []string{"Bearer a", "Bearer b"}, "", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/orders/1", nil)
			for _, a := range tt.authorization {
				r.Header.Add("Authorization", a)
			}
			tok, present, malformed := accessToken(r)
			if token := tok.Value; token != tt.token || present != tt.present || malformed != tt.malformed {
				t.Errorf("got %q %v %v, want %q %v %v", tok.Value, present, malformed, tt.token, tt.present, tt.malformed)
			}
		})
	}
}

func newTestProxy() *httputil.ReverseProxy { return &httputil.ReverseProxy{} }
