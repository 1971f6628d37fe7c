package server

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
)

// TestAmbiguousLengthOnEveryListener runs gatehouse as `serve` does, with
// a separate admin listener, and sends raw requests carrying both
// Content-Length and Transfer-Encoding to the token endpoint, the admin
// API and the console: each is refused 400 with a JSON invalid_request
// (net/http alone reads them as chunked).
func TestAmbiguousLengthOnEveryListener(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir, cfg.Addr, cfg.AdminAddr = t.TempDir(), freeAddr(t), freeAddr(t)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { stop(); <-done }()
	waitReady(t, "http://"+cfg.Addr)

	tests := []struct{ name, addr, path string }{
		{"token endpoint", cfg.Addr, "/oauth/token"},
		{"per-service endpoint", cfg.Addr, "/streaming-property/v1/oauth2/token"},
		{"admin API", cfg.AdminAddr, "/admin/v1/tenants"},
		{"console", cfg.AdminAddr, "/console/signin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			io.WriteString(c, "POST "+tt.path+" HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
				"Content-Length: 36\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\ngrant_type=client_credentials&x=y")
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("reading the answer: %v", err)
			}
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 400 || !strings.Contains(string(b), `"error":"invalid_request"`) {
				t.Errorf("got %d %q, want 400 invalid_request", resp.StatusCode, b)
			}
		})
	}
}
