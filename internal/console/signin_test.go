package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/store"
)

func TestSignedOutRedirectsToSignin(t *testing.T) {
	e := newEnv(t, nil)
	b := e.browser()
	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/console/", "/console/signin"},
		{"GET", "/console", "/console/"},
		{"GET", "/console/tenants", "/console/signin?next=%2Fconsole%2Ftenants"},
		{"GET", "/console/apis", "/console/signin?next=%2Fconsole%2Fapis"},
		{"GET", "/console/apis/new", "/console/signin?next=%2Fconsole%2Fapis%2Fnew"},
		{"GET", "/console/clients", "/console/signin?next=%2Fconsole%2Fclients"},
		{"GET", "/console/clients/new", "/console/signin?next=%2Fconsole%2Fclients%2Fnew"},
		{"GET", "/console/clients/x", "/console/signin?next=%2Fconsole%2Fclients%2Fx"},
		{"GET", "/console/keys", "/console/signin?next=%2Fconsole%2Fkeys"},
		{"GET", "/console/audit?since=1h", "/console/signin?next=%2Fconsole%2Faudit%3Fsince%3D1h"},
		{"POST", "/console/tenants", "/console/signin"},
		{"POST", "/console/keys/rotate", "/console/signin"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			a := b.do(tc.method, tc.path, url.Values{})
			if a.status != http.StatusSeeOther {
				t.Fatalf("got status %d, want 303", a.status)
			}
			if got := a.header.Get("Location"); got != tc.want {
				t.Errorf("got Location %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSigninFailureShowsForm(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct {
		name, id, secret, want string
	}{
		{"wrong secret", e.admin.ClientID, "gh_wrong", "The client_id or client_secret is wrong"},
		{"unknown client", "nobody", e.admin.ClientSecret, "The client_id or client_secret is wrong"},
		{"no admin grant", e.plain.ClientID, e.plain.ClientSecret, "needs the scope admin:read"},
		{"empty secret", e.admin.ClientID, "", "Enter the client&#39;s secret."},
		{"empty id", "", "x", "Enter the admin client&#39;s client_id."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := e.browser()
			a := b.post("/console/signin", "/console/signin", url.Values{"client_id": {tc.id}, "client_secret": {tc.secret}})
			if a.status != http.StatusUnauthorized {
				t.Fatalf("got status %d, want 401", a.status)
			}
			if !strings.Contains(a.body, tc.want) {
				t.Errorf("got page without %q:\n%s", tc.want, a.body)
			}
			if !strings.Contains(a.body, `action="/console/signin"`) {
				t.Errorf("got no sign-in form on the 401 page")
			}
			if len(tc.secret) > 3 && strings.Contains(a.body, tc.secret) {
				t.Errorf("the page echoes the secret")
			}
			if hasCookie(a.header, sessionCookie) {
				t.Errorf("a failed sign-in set a session cookie")
			}
		})
	}
}

func hasCookie(h http.Header, name string) bool {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == name && c.MaxAge >= 0 && c.Value != "" {
			return true
		}
	}
	return false
}

func TestSigninCookie(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run("secure="+map[bool]string{false: "false", true: "true"}[secure], func(t *testing.T) {
			e := newEnv(t, func(o *envOpts) { o.secure = secure })
			b := e.browser()
			form := url.Values{"client_id": {e.admin.ClientID}, "client_secret": {e.admin.ClientSecret}, "next": {"/console/keys"}}
			// The jar keeps no Secure cookie over http: read the pre-session cookie from the page's answer.
			page := b.get("/console/signin")
			form.Set("csrf", csrfRE.FindStringSubmatch(page.body)[1])
			req, _ := http.NewRequest("POST", e.ts.URL+"/console/signin", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for _, c := range (&http.Response{Header: page.header}).Cookies() {
				req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
			}
			resp, err := b.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/keys" {
				t.Fatalf("got %d to %q, want 303 to /console/keys", resp.StatusCode, resp.Header.Get("Location"))
			}
			var c *http.Cookie
			for _, k := range resp.Cookies() {
				if k.Name == sessionCookie {
					c = k
				}
			}
			if c == nil {
				t.Fatal("got no session cookie")
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure != secure || c.Path != "/console/" {
				t.Errorf("got HttpOnly=%v SameSite=%v Secure=%v Path=%q, want true Strict %v /console/", c.HttpOnly, c.SameSite, c.Secure, c.Path, secure)
			}
			if strings.Contains(c.Value, e.admin.ClientSecret) {
				t.Errorf("the session cookie holds the secret")
			}
		})
	}
}

func TestSigninNeedsCSRF(t *testing.T) {
	e := newEnv(t, nil)
	creds := url.Values{"client_id": {e.admin.ClientID}, "client_secret": {e.admin.ClientSecret}}
	for _, tc := range []struct {
		name string
		csrf func(b *browser) string
	}{
		{"none", func(*browser) string { return "" }},
		{"made up", func(*browser) string { return "AAAA" }},
		{"another browser's", func(*browser) string { return e.browser().csrf("/console/signin") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := e.browser()
			b.get("/console/signin")
			form := url.Values{"csrf": {tc.csrf(b)}}
			for k, v := range creds {
				form[k] = v
			}
			if a := b.do("POST", "/console/signin", form); a.status != http.StatusForbidden {
				t.Errorf("got status %d, want 403", a.status)
			}
		})
	}
}

func TestSessionLifetime(t *testing.T) {
	e := newEnv(t, nil)
	b := e.signedIn(e.admin)
	if a := b.get("/console/"); a.status != http.StatusOK {
		t.Fatalf("got status %d right after sign-in, want 200", a.status)
	}
	e.clock.Add(DefaultSessionTTL - time.Minute)
	if a := b.get("/console/"); a.status != http.StatusOK {
		t.Fatalf("got status %d within the session, want 200", a.status)
	}
	e.clock.Add(2 * time.Minute)
	a := b.get("/console/clients")
	if a.status != http.StatusSeeOther || !strings.HasPrefix(a.header.Get("Location"), "/console/signin") {
		t.Errorf("got %d to %q after expiry, want 303 to the sign-in page", a.status, a.header.Get("Location"))
	}
}

func TestTamperedSessionRejected(t *testing.T) {
	e := newEnv(t, nil)
	other := &Handler{cfg: Config{SessionKey: []byte(strings.Repeat("x", 32))}, now: e.clock.Now}
	good := session{ClientID: e.reader.ClientID, Scopes: []string{store.ScopeRead}, Expires: e.clock.Now().Add(time.Hour).Unix(), ID: "sid"}
	valid := e.h.encodeSession(good)
	payload, sig, _ := strings.Cut(valid, ".")
	raised := good
	raised.Scopes = []string{store.ScopeRead, store.ScopeWrite}
	raisedJSON, _ := json.Marshal(raised)
	for _, tc := range []struct {
		name, value string
		want        int
	}{
		{"valid", valid, http.StatusOK},
		{"scopes raised, old signature", b64.EncodeToString(raisedJSON) + "." + sig, http.StatusSeeOther},
		{"signature changed", payload + "." + b64.EncodeToString([]byte("not the signature at all, no....")), http.StatusSeeOther},
		{"no signature", payload, http.StatusSeeOther},
		{"signed with another key", other.encodeSession(good), http.StatusSeeOther},
		{"garbage", "%%%.%%%", http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", e.ts.URL+"/console/keys", nil)
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: tc.value})
			resp, err := e.browser().client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("got status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

func TestSessionEndsWhenClientDisabled(t *testing.T) {
	e := newEnv(t, nil)
	b := e.signedIn(e.reader)
	disabled := true
	if _, err := e.h.service.UpdateClient(t.Context(), e.reader.ClientID, admin.ClientPatch{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	if a := b.get("/console/"); a.status != http.StatusSeeOther {
		t.Errorf("got status %d for a disabled client's session, want 303", a.status)
	}
}

func TestSignout(t *testing.T) {
	e := newEnv(t, nil)
	b := e.signedIn(e.admin)
	a := b.post("/console/", "/console/signout", nil)
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/console/signin?signed-out" {
		t.Fatalf("got %d to %q, want 303 to /console/signin?signed-out", a.status, a.header.Get("Location"))
	}
	if a := b.get("/console/"); a.status != http.StatusSeeOther {
		t.Errorf("got status %d after signing out, want 303", a.status)
	}
}

func TestSigninThrottled(t *testing.T) {
	e := newEnv(t, nil)
	b := e.browser()
	wrong := url.Values{"client_id": {e.admin.ClientID}, "client_secret": {"gh_wrong"}}
	for i := range 10 {
		if a := b.post("/console/signin", "/console/signin", wrong); a.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: got status %d, want 401", i+1, a.status)
		}
	}
	right := url.Values{"client_id": {e.admin.ClientID}, "client_secret": {e.admin.ClientSecret}}
	a := b.post("/console/signin", "/console/signin", right)
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") == "" {
		t.Fatalf("got status %d, Retry-After %q, want 429 with Retry-After", a.status, a.header.Get("Retry-After"))
	}
	e.clock.Add(2 * time.Second) // the first backoff is one second
	if a := b.post("/console/signin", "/console/signin", right); a.status != http.StatusSeeOther {
		t.Errorf("got status %d after the window, want 303", a.status)
	}
}

// createLink asks for a link as actor and returns the code.
func (e *env) createLink(actor string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.ts.URL+"/admin/v1/console/links", nil)
	if actor != "" {
		req.Header.Set("X-Test-Actor", actor)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ URL, Path string }
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode == http.StatusCreated && !strings.HasPrefix(out.URL, e.ts.URL+"/console/link?code=") {
		e.t.Errorf("got url %q, want it under %s/console/link", out.URL, e.ts.URL)
	}
	u, _ := url.Parse(out.Path)
	if u == nil {
		return resp.StatusCode, ""
	}
	return resp.StatusCode, u.Query().Get("code")
}

// useLink opens a link and confirms it, as a browser does.
func (b *browser) useLink(code string) answer {
	page := b.get("/console/link?code=" + url.QueryEscape(code))
	form := url.Values{"code": {code}}
	if m := csrfRE.FindStringSubmatch(page.body); m != nil {
		form.Set("csrf", m[1])
	} else {
		form.Set("csrf", b.csrf("/console/signin"))
	}
	return b.do("POST", "/console/link", form)
}

func TestOneTimeLink(t *testing.T) {
	e := newEnv(t, nil)
	if status, _ := e.createLink(""); status != http.StatusUnauthorized {
		t.Errorf("without a caller: got status %d, want 401", status)
	}
	status, code := e.createLink(e.admin.ClientID)
	if status != http.StatusCreated || code == "" {
		t.Fatalf("got status %d, code %q, want 201 and a code", status, code)
	}

	b := e.browser()
	if a := b.get("/console/link?code=" + code); a.status != http.StatusOK || !strings.Contains(a.body, e.admin.ClientID) {
		t.Fatalf("link page: got status %d, want 200 naming the client", a.status)
	}
	a := b.useLink(code)
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/console/" {
		t.Fatalf("first use: got %d to %q, want 303 to /console/", a.status, a.header.Get("Location"))
	}
	if a := b.get("/console/clients"); a.status != http.StatusOK {
		t.Errorf("after the link: got status %d, want 200", a.status)
	}
	if a := e.browser().useLink(code); a.status != http.StatusUnauthorized {
		t.Errorf("second use: got status %d, want 401", a.status)
	}

	_, late := e.createLink(e.admin.ClientID)
	e.clock.Add(LinkTTL + time.Second)
	if a := e.browser().useLink(late); a.status != http.StatusUnauthorized {
		t.Errorf("after expiry: got status %d, want 401", a.status)
	}
	if a := e.browser().useLink("made-up"); a.status != http.StatusUnauthorized {
		t.Errorf("made-up code: got status %d, want 401", a.status)
	}
}

func TestLinkNeedsCSRF(t *testing.T) {
	e := newEnv(t, nil)
	_, code := e.createLink(e.admin.ClientID)
	b := e.browser()
	b.get("/console/link?code=" + code)
	if a := b.do("POST", "/console/link", url.Values{"code": {code}}); a.status != http.StatusForbidden {
		t.Errorf("got status %d, want 403", a.status)
	}
	if a := b.useLink(code); a.status != http.StatusSeeOther {
		t.Errorf("the code was spent by a forged post: got status %d, want 303", a.status)
	}
}
