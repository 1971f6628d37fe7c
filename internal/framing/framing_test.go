package framing

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// echo answers with the body it read, and whether it saw TLS.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	if r.TLS != nil {
		w.Header().Set("X-TLS", "yes")
	}
	w.Write(b)
})

// serve runs a server with Listener and Middleware, as gatehouse's
// listeners do, and returns its address.
func serve(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: Middleware(echo), ConnContext: ConnContext, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(Listener(ln))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// exchange writes raw to a new connection and reads every response until
// the server closes it or goes quiet.
func exchange(t *testing.T, c net.Conn, raw string, want int) []*http.Response {
	t.Helper()
	defer c.Close()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	br := bufio.NewReader(c)
	var out []*http.Response
	for len(out) < want {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			break
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(strings.NewReader(string(b)))
		out = append(out, resp)
	}
	return out
}

func body(r *http.Response) string { b, _ := io.ReadAll(r.Body); return string(b) }

// TestAmbiguousLength sends raw requests over TCP: a head with both
// Content-Length and Transfer-Encoding is refused 400 and the connection
// closed; either alone works, and text that merely looks like such a head
// inside a body is not mistaken for one.
func TestAmbiguousLength(t *testing.T) {
	addr := serve(t)
	const post = "POST / HTTP/1.1\r\nHost: x\r\n"
	tests := []struct {
		name   string
		raw    string
		want   []int    // statuses, in order
		bodies []string // of the 200s
	}{
		{"both headers", post + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", []int{400}, nil},
		{"both, other case and order", post + "transfer-encoding: chunked\r\ncontent-length: 30\r\n\r\n0\r\n\r\n", []int{400}, nil},
		{"both, smuggled second request", post + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n", []int{400}, nil},
		{"Content-Length alone", post + "Content-Length: 5\r\n\r\nhello", []int{200}, []string{"hello"}},
		{"chunked alone", post + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", []int{200}, []string{"hello"}},
		{"a head inside a Content-Length body, then a request", post + "Content-Length: 54\r\nConnection: keep-alive\r\n\r\n" +
			"Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\nxxxxx" + post + "Content-Length: 2\r\n\r\nok",
			[]int{200, 200}, []string{"Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\nxxxxx", "ok"}},
		{"a head inside chunked data, then a request", post + "Transfer-Encoding: chunked\r\n\r\n31\r\n" +
			"Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n\r\n0\r\n\r\n" + post + "Content-Length: 2\r\n\r\nok",
			[]int{200, 200}, []string{"Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", "ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			got := exchange(t, c, tt.raw, len(tt.want))
			if len(got) != len(tt.want) {
				t.Fatalf("got %d responses, want %d", len(got), len(tt.want))
			}
			for i, r := range got {
				if r.StatusCode != tt.want[i] {
					t.Errorf("response %d: got %d, want %d", i, r.StatusCode, tt.want[i])
				}
				if r.StatusCode == 400 {
					if b := body(r); !strings.Contains(b, `"invalid_request"`) || !strings.Contains(b, "Transfer-Encoding") {
						t.Errorf("400 body: got %q, want a JSON invalid_request naming Transfer-Encoding", b)
					}
					if !r.Close {
						t.Errorf("400: got a connection left open, want Connection: close")
					}
				} else if tt.bodies != nil && body(r) != tt.bodies[i] {
					t.Errorf("response %d body: got %q, want %q", i, body(r), tt.bodies[i])
				}
			}
		})
	}
	t.Run("a good request, then an ambiguous one on the same connection", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		br := bufio.NewReader(c)
		io.WriteString(c, post+"Content-Length: 2\r\n\r\nok")
		if r, err := http.ReadResponse(br, nil); err != nil || r.StatusCode != 200 || body(r) != "ok" {
			t.Fatalf("first: got %v, %v; want 200 ok", r, err)
		}
		io.WriteString(c, post+"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
		if r, err := http.ReadResponse(br, nil); err != nil || r.StatusCode != 400 {
			t.Fatalf("second: got %v, %v; want 400", r, err)
		}
	})
}

// TestTLSListener: over TLS the same refusal holds for HTTP/1.1, the
// handler still sees r.TLS, and HTTP/2 clients still get HTTP/2.
func TestTLSListener(t *testing.T) {
	ts := httptest.NewUnstartedServer(nil) // only for its certificate
	ts.StartTLS()
	cert := ts.TLS.Certificates[0]
	ts.Close()
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}, MinVersion: tls.VersionTLS12}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: Middleware(echo), ConnContext: ConnContext, TLSConfig: cfg}
	go srv.Serve(TLSListener(ln, cfg))
	t.Cleanup(func() { srv.Close() })
	addr := ln.Addr().String()

	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	got := exchange(t, c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 1)
	if len(got) != 1 || got[0].StatusCode != 400 {
		t.Errorf("both headers over TLS: got %v, want one 400", got)
	}

	for _, h2 := range []bool{false, true} {
		tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: h2}
		if !h2 {
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		resp, err := (&http.Client{Transport: tr}).Post("https://"+addr+"/", "text/plain", strings.NewReader("hi"))
		if err != nil {
			t.Fatalf("h2=%v: %v", h2, err)
		}
		wantMajor := map[bool]int{false: 1, true: 2}[h2]
		if resp.StatusCode != 200 || body(resp) != "hi" || resp.Header.Get("X-TLS") != "yes" || resp.ProtoMajor != wantMajor {
			t.Errorf("h2=%v: got %d %q TLS=%q HTTP/%d, want 200 \"hi\" TLS=yes HTTP/%d", h2, resp.StatusCode, body(resp), resp.Header.Get("X-TLS"), resp.ProtoMajor, wantMajor)
		}
		resp.Body.Close()
		tr.CloseIdleConnections()
	}
}

// BenchmarkScanTokenRequest is the scanner's cost for one token request
// as curl sends it (head and form body in one read).
func BenchmarkScanTokenRequest(b *testing.B) {
	body := "grant_type=client_credentials&client_id=5934de97c95e1ced&client_secret=gatehouse_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&audience=https%3A%2F%2Fapi.example.io"
	req := []byte("POST /oauth/token HTTP/1.1\r\nHost: auth.example.io\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n" +
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " + fmt.Sprint(len(body)) + "\r\n\r\n" + body)
	var s scanner
	b.SetBytes(int64(len(req)))
	for b.Loop() {
		if s.feed(req) {
			b.Fatal("flagged a plain request")
		}
	}
}
