package bench

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestWireConn checks the lean client against net/http's server: plain and
// chunked bodies, Connection: close, keep-alive reuse, and a server that
// drops an idle connection.
func TestWireConn(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.Header.Get("Authorization") != "Basic abc" {
			w.WriteHeader(400)
			return
		}
		switch r.URL.Query().Get("mode") {
		case "chunked":
			w.Write([]byte(`{"access_token":`))
			w.(http.Flusher).Flush()
			w.Write([]byte(`"chunky"}`))
		case "close":
			w.Header().Set("Connection", "close")
			w.Write([]byte(`{"access_token":"bye"}`))
		default:
			w.Write([]byte(`{"access_token":"plain"}`))
		}
	}))
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	req := tokenRequest{body: []byte("grant_type=client_credentials"), contentType: "application/x-www-form-urlencoded", authorization: "Basic abc"}
	tests := []struct {
		mode, want string
		conns      int64
	}{
		{"", `{"access_token":"plain"}`, 1},
		{"", `{"access_token":"plain"}`, 1}, // kept alive
		{"chunked", `{"access_token":"chunky"}`, 1},
		{"close", `{"access_token":"bye"}`, 1},
		{"", `{"access_token":"plain"}`, 2}, // a new connection after close
	}
	w, err := newWireConn(srv.URL+"/oauth/token", req, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.timeout = 5e9
	defer w.close()
	for i, tt := range tests {
		url := srv.URL + "/oauth/token"
		if tt.mode != "" {
			url += "?mode=" + tt.mode
		}
		wc, _ := newWireConn(url, req, 5e9)
		wc.conn, wc.br, wc.used = w.conn, w.br, w.used // share the worker's connection
		status, body, err := wc.exchange(context.Background())
		w.conn, w.br, w.used = wc.conn, wc.br, wc.used
		if err != nil || status != 200 || string(body) != tt.want || conns.Load() != tt.conns {
			t.Errorf("step %d (%s): got %d %q %v with %d connections, want 200 %q with %d", i, tt.mode, status, body, err, conns.Load(), tt.want, tt.conns)
		}
	}
	// The server drops idle connections: the next exchange retries once on a new one.
	srv.CloseClientConnections()
	if status, _, err := w.exchange(context.Background()); err != nil || status != 200 {
		t.Errorf("after the server dropped the connection: got %d %v, want a retried 200", status, err)
	}
}

func TestReadHeadRejects(t *testing.T) {
	for _, raw := range []string{
		"nonsense\r\n\r\n",
		"HTTP/1.1 200 OK\r\n\r\n",                       // no length
		"HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n", // negative
		"HTTP/1.1 2x0 OK\r\nContent-Length: 1\r\n\r\n",  // bad status
	} {
		if _, err := readHead(bufio.NewReader(strings.NewReader(raw))); err == nil {
			t.Errorf("readHead(%q): got nil, want an error", raw)
		}
	}
}
