package server

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/store"
)

// TestAdminSeesRevocations: an admin token revoked at /oauth/revoke is
// refused by the admin API at once, since both read the node's one
// revocation list. (What else ends an admin token early is tested in
// internal/admin.)
func TestAdminSeesRevocations(t *testing.T) {
	h := start(t, nil)
	h.seedCatalog()
	ops := h.newClient(admin.ClientInput{Name: ptr("ops"), Tenant: "acme",
		Grants: &map[string][]string{store.AdminAudience: {store.ScopeRead}}})
	tok := h.token(ops, store.AdminAudience)
	call := func() int {
		req, _ := http.NewRequest("GET", h.ts.URL+"/admin/v1/tenants", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := call(); s != 200 {
		t.Fatalf("a fresh admin token: got %d, want 200", s)
	}
	if s, _ := h.revoke(ops, tok); s != 200 {
		t.Fatalf("revoke: got %d", s)
	}
	if s := call(); s != 401 {
		t.Errorf("a revoked admin token: got %d, want 401", s)
	}
}

// TestHostilePaths: metric labels stay bounded and valid for any path.
func TestHostilePaths(t *testing.T) {
	h := start(t, nil)
	for _, p := range []string{"/oauth/%ff", "/oauth/x1", "/oauth/x2", "/%ff/v1/oauth2/token"} {
		resp, err := http.Get(h.ts.URL + p)
		if err != nil {
			t.Fatalf("GET %s: %v (the connection died)", p, err)
		}
		resp.Body.Close()
	}
	resp, _ := http.Get(h.ts.URL + "/metrics")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), `route="x1"`) || strings.Contains(string(body), `\xff`) {
		t.Errorf("made-up paths became metric labels")
	}
}

// TestNoRedirectCarriesCredentials: a path that is not canonical is not
// redirected with its query (which may hold a client_secret) in Location.
func TestNoRedirectCarriesCredentials(t *testing.T) {
	h := start(t, nil)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range []string{"//streaming-property/v1/oauth2/token", "/streaming-property/./v1/oauth2/token", "/oauth/../oauth/token", "/console//clients"} {
		resp, err := client.Post(h.ts.URL+p+"?client_id=c&client_secret=gatehouse_notarealsecret0000", "", nil)
		if err != nil {
			t.Fatalf("POST %s: %v", p, err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); loc != "" || resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s: got %d with Location %q, want 404 and no redirect", p, resp.StatusCode, loc)
		}
	}
}

// TestNoRedirectCopiesTheQuery: where http.ServeMux redirects a path to
// its subtree (/console/static to /console/static/), it copied the query
// string, which may hold a client_secret, into Location and the body.
func TestNoRedirectCopiesTheQuery(t *testing.T) {
	h := start(t, nil)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	const secret = "gatehouse_notarealsecret0001"
	for _, p := range []string{"/console/static", "/admin", "/console"} {
		for _, method := range []string{"GET", "HEAD"} {
			req, _ := http.NewRequest(method, h.ts.URL+p+"?client_id=c&client_secret="+secret, nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", method, p, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if loc := resp.Header.Get("Location"); strings.Contains(loc, secret) || strings.Contains(string(body), secret) {
				t.Errorf("%s %s: got %d, Location %q, body %q: want the query in neither", method, p, resp.StatusCode, loc, body)
			}
		}
	}
}
