package framing

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// Listener wraps every connection ln accepts in a Conn.
func Listener(ln net.Listener) net.Listener { return plainListener{ln} }

type plainListener struct{ net.Listener }

func (l plainListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return NewConn(c), nil
}

// handshakeTimeout bounds a TLS handshake done by TLSListener.
const handshakeTimeout = 10 * time.Second

// TLSListener terminates TLS on ln's connections with cfg and returns
// HTTP/1.1 connections wrapped in a Conn (whose TLS state Middleware puts
// back on the request), and HTTP/2 ones as they are: HTTP/2 frames its
// own messages, and net/http refuses Transfer-Encoding there. Serve it
// with http.Server.Serve, with TLSConfig set to cfg, so that HTTP/2 is
// offered. Handshakes run concurrently, each within 10 seconds.
func TLSListener(ln net.Listener, cfg *tls.Config) net.Listener {
	l := &tlsListener{inner: ln, cfg: cfg, out: make(chan net.Conn), done: make(chan struct{})}
	go l.loop()
	return l
}

type tlsListener struct {
	inner net.Listener
	cfg   *tls.Config
	out   chan net.Conn
	done  chan struct{}
	once  sync.Once
	mu    sync.Mutex
	err   error
}

func (l *tlsListener) loop() {
	for {
		c, err := l.inner.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			l.mu.Lock()
			l.err = err
			l.mu.Unlock()
			l.Close()
			return
		}
		go l.handshake(c)
	}
}

func (l *tlsListener) handshake(c net.Conn) {
	tc := tls.Server(c, l.cfg)
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return
	}
	var conn net.Conn = tc
	if tc.ConnectionState().NegotiatedProtocol != "h2" {
		conn = &tlsConn{Conn: NewConn(tc), tls: tc}
	}
	select {
	case l.out <- conn:
	case <-l.done:
		c.Close()
	}
}

func (l *tlsListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.out:
		return c, nil
	case <-l.done:
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.err != nil {
			return nil, l.err
		}
		return nil, net.ErrClosed
	}
}

func (l *tlsListener) Close() error {
	var err error
	l.once.Do(func() { close(l.done); err = l.inner.Close() })
	return err
}

func (l *tlsListener) Addr() net.Addr { return l.inner.Addr() }

// tlsConn is a Conn over TLS that remembers its TLS state.
type tlsConn struct {
	*Conn
	tls *tls.Conn
}

type connKey struct{}

// ConnContext is an http.Server ConnContext that lets Middleware find the
// request's connection.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// Middleware answers 400, and closes the connection, for every request on
// a connection where a head with both Content-Length and Transfer-Encoding
// arrived (the connection's framing can no longer be trusted), with an
// RFC 6749-style JSON error. On a TLS connection from TLSListener it sets
// r.TLS, which net/http cannot see through the wrapper.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var conn *Conn
		switch c := r.Context().Value(connKey{}).(type) {
		case *Conn:
			conn = c
		case *tlsConn:
			conn = c.Conn
			if r.TLS == nil {
				st := c.tls.ConnectionState()
				r.TLS = &st
			}
		}
		if conn != nil && conn.Ambiguous() {
			w.Header().Set("Connection", "close")
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{
				"error":             "invalid_request",
				"error_description": "A request may not carry both Content-Length and Transfer-Encoding.",
			})
			return
		}
		next.ServeHTTP(w, r)
	})
}
