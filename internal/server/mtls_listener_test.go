package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/binding"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/mtls"
	"github.com/gatehouse/gatehouse/internal/mtls/mtlstest"
)

// tlsClient is an HTTPS client trusting ca that presents cert (if any)
// and records whether the server asked for a certificate.
func tlsClient(ca *mtlstest.CA, cert *mtlstest.Leaf, asked *bool, maxVersion uint16) *http.Client {
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	cfg := &tls.Config{RootCAs: roots, MaxVersion: maxVersion,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			*asked = true
			if cert == nil {
				return &tls.Certificate{}, nil
			}
			c := cert.TLSCertificate()
			return &c, nil
		}}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
}

// TestListenerTLSAsksForClientCertificate serves a handler the way Run
// does (newHTTPServer, serveFramed with listenerTLS) and shows that on the public
// listener a client certificate, self-signed or not, reaches the
// handler's r.TLS without being verified or required, and that the admin
// listener does not ask for one.
func TestListenerTLSAsksForClientCertificate(t *testing.T) {
	dir := t.TempDir()
	ca := mtlstest.NewCA(t, "server CA")
	certFile, keyFile := ca.Server(t, "127.0.0.1").WriteFiles(t, dir, "server")
	// The handler says what package mtls sees on the connection.
	seen := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaf, chain, err := mtls.Source{}.Certificate(r)
		switch {
		case err != nil:
			fmt.Fprint(w, "error: ", err)
		case leaf == nil:
			fmt.Fprint(w, "none")
		default:
			fmt.Fprintf(w, "%s chain=%d", binding.Thumbprint(leaf), len(chain))
		}
	})
	serve := func(public bool) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := newHTTPServer(seen, slog.New(slog.NewTextHandler(io.Discard, nil)))
		go serveFramed(srv, ln, listenerTLS(public), certFile, keyFile)
		t.Cleanup(func() { srv.Close() })
		return "https://" + ln.Addr().String()
	}
	public, admin := serve(true), serve(false)

	selfSigned := mtlstest.SelfSigned(t, mtlstest.Spec{})
	expired := mtlstest.SelfSigned(t, mtlstest.Spec{NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	otherCA := mtlstest.NewCA(t, "client CA")
	chained := otherCA.Intermediate(t, "client intermediate").Client(t, "billing")
	serverOnly := otherCA.Issue(t, mtlstest.Spec{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	tests := []struct {
		name      string
		url       string
		cert      *mtlstest.Leaf
		wantAsked bool
		want      string
	}{
		{"self-signed", public, selfSigned, true, binding.Thumbprint(selfSigned.Cert) + " chain=0"},
		{"no certificate", public, nil, true, "none"},
		{"expired self-signed is not judged here", public, expired, true, binding.Thumbprint(expired.Cert) + " chain=0"},
		{"from an unknown CA, with its intermediate", public, chained, true, binding.Thumbprint(chained.Cert) + " chain=1"},
		{"without clientAuth usage", public, serverOnly, true, binding.Thumbprint(serverOnly.Cert) + " chain=0"},
		{"admin listener does not ask", admin, selfSigned, false, "none"},
	}
	for _, tt := range tests {
		for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			t.Run(fmt.Sprintf("%s/%s", tt.name, tls.VersionName(version)), func(t *testing.T) {
				asked := false
				resp, err := tlsClient(ca, tt.cert, &asked, version).Get(tt.url + "/")
				if err != nil {
					t.Fatalf("handshake or request failed: %v", err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if asked != tt.wantAsked {
					t.Errorf("server asked for a client certificate: got %v, want %v", asked, tt.wantAsked)
				}
				if string(body) != tt.want {
					t.Errorf("handler saw %q, want %q", body, tt.want)
				}
			})
		}
	}
	t.Run("TLS 1.1 is refused", func(t *testing.T) {
		asked := false
		c := tlsClient(ca, nil, &asked, tls.VersionTLS11)
		c.Transport.(*http.Transport).TLSClientConfig.MinVersion = tls.VersionTLS10
		resp, err := c.Get(public + "/")
		if err == nil {
			resp.Body.Close()
			t.Fatalf("TLS 1.1: got %d, want a failed handshake", resp.StatusCode)
		}
		if !strings.Contains(err.Error(), "protocol version") {
			t.Errorf("TLS 1.1: got %v, want the server's protocol version alert", err)
		}
	})
}

// TestRunAsksForClientCertificate checks the wiring in Run: with
// --tls-cert, the public listener asks for a client certificate and
// completes the handshake with a self-signed one or none; a separate
// admin listener does not ask.
func TestRunAsksForClientCertificate(t *testing.T) {
	dir := t.TempDir()
	ca := mtlstest.NewCA(t, "server CA")
	certFile, keyFile := ca.Server(t, "127.0.0.1").WriteFiles(t, dir, "server")
	addrs := make([]string, 2)
	for i := range addrs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = ln.Addr().String()
		ln.Close()
	}
	cfg := config.Default()
	cfg.DataDir, cfg.Addr, cfg.AdminAddr, cfg.TLSCert, cfg.TLSKey = filepath.Join(dir, "data"), addrs[0], addrs[1], certFile, keyFile
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

	selfSigned := mtlstest.SelfSigned(t, mtlstest.Spec{})
	tests := []struct {
		name, url string
		cert      *mtlstest.Leaf
		wantAsked bool
	}{
		{"public, self-signed", "https://" + addrs[0] + "/healthz", selfSigned, true},
		{"public, no certificate", "https://" + addrs[0] + "/healthz", nil, true},
		{"admin listener", "https://" + addrs[1] + "/metrics", selfSigned, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			asked := false
			client := tlsClient(ca, tt.cert, &asked, 0)
			var resp *http.Response
			var err error
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if resp, err = client.Get(tt.url); err == nil || !strings.Contains(err.Error(), "connection refused") {
					break
				}
			}
			if err != nil {
				t.Fatalf("got %v, want a completed handshake", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status: got %d, want 200", resp.StatusCode)
			}
			if asked != tt.wantAsked {
				t.Errorf("asked for a client certificate: got %v, want %v", asked, tt.wantAsked)
			}
		})
	}
}
