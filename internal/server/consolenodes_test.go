package server

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/store/pgtest"
)

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestConsoleLinksAcrossNodes: with two real gatehouse processes on one
// PostgreSQL, a sign-in link made on one node opens on the other, signs
// in once wherever it is used, and the session it starts is good on
// every node (issue 13, item 5).
func TestConsoleLinksAcrossNodes(t *testing.T) {
	dsn, kek := pgtest.Schema(t), newKEK()
	bin := buildGatehouse(t)
	a := startProc(t, bin, "a", procEnv(kek), "--db", dsn)
	b := startProc(t, bin, "b", procEnv(kek), "--db", dsn)
	creds, err := admin.ReadCredentials(filepath.Join(a.dir, "admin-client.json"))
	if err != nil {
		t.Fatal(err)
	}
	var made struct{ Path string }
	if err := adminclient.New(context.Background(), a.url, creds).Do(context.Background(), "POST", "/admin/v1/console/links", nil, &made); err != nil {
		t.Fatalf("making a link on node a: %v", err)
	}
	code := strings.TrimPrefix(made.Path, "/console/link?code=")

	use := func(node *proc) (*http.Client, int) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(node.url + made.Path)
		if err != nil {
			t.Fatal(err)
		}
		page := readAll(resp)
		m := csrfInput.FindStringSubmatch(page)
		if resp.StatusCode != http.StatusOK || m == nil {
			return c, resp.StatusCode
		}
		resp, err = c.PostForm(node.url+"/console/link", url.Values{"code": {code}, "csrf": {m[1]}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return c, resp.StatusCode
	}
	browser, status := use(b)
	if status != http.StatusSeeOther {
		t.Fatalf("the link made on node a, used on node b: got %d, want 303", status)
	}
	if _, status := use(a); status != http.StatusUnauthorized {
		t.Errorf("the same link again on node a: got %d, want 401", status)
	}
	for _, node := range []*proc{a, b} {
		resp, err := browser.Get(node.url + "/console/clients")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("the session on %s: got %d, want 200", node.url, resp.StatusCode)
		}
	}
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
