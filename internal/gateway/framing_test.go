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
