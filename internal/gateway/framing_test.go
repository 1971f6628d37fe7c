package gateway_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAmbiguousLengthRefused: a request with both Content-Length and
// Transfer-Encoding, sent over raw TCP, is refused 400 by the gateway
// before it can reach an upstream (net/http alone would read it chunked).
func TestAmbiguousLengthRefused(t *testing.T) {
	w := newWorld(t)
	up := startUpstream(t)
	var tokens []string
	gw := w.startGateway(t, w.gatewayConfig(up.URL), &tokens)
	writer := w.gh.token(w.writer, ordersAudience)
	tokens = append(tokens, writer)
	c, err := net.Dial("tcp", strings.TrimPrefix(gw.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST /orders/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+writer+
		"\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || !strings.Contains(string(b), "invalid_request") {
		t.Errorf("got %d %q, want 400 invalid_request", resp.StatusCode, b)
	}
}

// TestDeletedClientRefused: once a client is deleted at gatehouse (alone,
// or with its tenant or environment), the gateway refuses its tokens: a
// JWT, which it checks offline, from the next revocation poll; an opaque
// token from the next introspection (gatehouse answers inactive).
func TestDeletedClientRefused(t *testing.T) {
	w := newWorld(t)
	up := startUpstream(t)
	cfg := w.gatewayConfig(up.URL)
	cfg.RevocationPollInterval = 100 * time.Millisecond
	cfg.IntrospectionCacheTTL = 300 * time.Millisecond
	var tokens []string
	gw := w.startGateway(t, cfg, &tokens)
	doomed := w.gh.newClient("doomed", "acme", "", map[string][]string{
		ordersAudience: {"orders:read", "orders:write"}, reportsAudience: {"reports:read"}})
	jwt, opaque := w.gh.token(doomed, ordersAudience), w.gh.token(doomed, reportsAudience)
	tokens = append(tokens, doomed.ClientSecret, jwt, opaque)
	for _, c := range []struct{ path, tok string }{{"/orders/1", jwt}, {"/reports/1", opaque}} {
		if a := gw.call(t, "GET", c.path, c.tok, nil); a.status != 200 {
			t.Fatalf("%s before the delete: got %d %q, want 200", c.path, a.status, a.desc)
		}
	}
	w.gh.do("DELETE", "/admin/v1/clients/"+doomed.ClientID, nil, nil)
	for _, c := range []struct{ path, tok string }{{"/orders/1", jwt}, {"/reports/1", opaque}} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			a := gw.call(t, "GET", c.path, c.tok, nil)
			if a.status == 401 && a.err == "invalid_token" {
				break
			}
			if a.status != 200 || time.Now().After(deadline) {
				t.Fatalf("%s after the delete: got %d %q, want 401 invalid_token within 10s", c.path, a.status, a.err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
