package mtls_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/mtls"
	"github.com/gatehouse/gatehouse/internal/mtls/mtlstest"
	"github.com/gatehouse/gatehouse/internal/proxy"
)

const (
	proxyPeer  = "10.0.0.5:40000"
	clientPeer = "203.0.113.9:40000"
	nginx      = "X-SSL-Client-Cert"
)

func TestCertificate(t *testing.T) {
	root := mtlstest.NewCA(t, "root")
	inter := root.Intermediate(t, "intermediate")
	client := inter.Client(t, "billing")
	other := root.Client(t, "forged")
	proxyCert := root.Client(t, "the proxy")
	pemText := string(mtlstest.PEM(client.Cert))
	trust := proxy.NewTrust([]string{"10.0.0.0/8"})

	tests := []struct {
		name      string
		src       mtls.Source
		peer      string
		tls       []*x509.Certificate // nil: plain HTTP
		headers   []string            // values of src.Header
		wantLeaf  *x509.Certificate
		wantChain []*x509.Certificate
	}{
		{"nothing", mtls.Source{}, clientPeer, nil, nil, nil, nil},
		{"TLS without a certificate", mtls.Source{}, clientPeer, []*x509.Certificate{}, nil, nil, nil},
		{"TLS certificate and chain", mtls.Source{}, clientPeer, []*x509.Certificate{client.Cert, inter.Cert}, nil, client.Cert, []*x509.Certificate{inter.Cert}},
		{"header from an untrusted peer is ignored", mtls.Source{Header: nginx, Proxies: trust}, clientPeer, nil,
			[]string{mtlstest.EscapedPEM(other.Cert)}, nil, nil},
		{"header on a direct TLS connection is ignored", mtls.Source{Header: nginx, Proxies: trust}, clientPeer, []*x509.Certificate{client.Cert},
			[]string{mtlstest.EscapedPEM(other.Cert)}, client.Cert, nil},
		{"header without any trusted proxy is ignored", mtls.Source{Header: nginx}, proxyPeer, nil,
			[]string{mtlstest.EscapedPEM(other.Cert)}, nil, nil},
		{"trusted proxy without the header", mtls.Source{Header: nginx, Proxies: trust}, proxyPeer, nil, nil, nil, nil},
		{"trusted proxy, empty header", mtls.Source{Header: nginx, Proxies: trust}, proxyPeer, nil, []string{" "}, nil, nil},
		{"nginx escaped PEM", mtls.Source{Header: nginx, Proxies: trust}, proxyPeer, nil,
			[]string{mtlstest.EscapedPEM(client.Cert)}, client.Cert, nil},
		{"nginx escaped PEM with chain", mtls.Source{Header: nginx, Proxies: trust}, proxyPeer, nil,
			[]string{mtlstest.EscapedPEM(client.Cert, inter.Cert)}, client.Cert, []*x509.Certificate{inter.Cert}},
		{"re-encrypting proxy: header, not the proxy's own certificate", mtls.Source{Header: nginx, Proxies: trust}, proxyPeer,
			[]*x509.Certificate{proxyCert.Cert}, []string{mtlstest.EscapedPEM(client.Cert)}, client.Cert, nil},
		{"plain PEM, line breaks as spaces", mtls.Source{Header: nginx, Proxies: trust}, proxyPeer, nil,
			[]string{strings.ReplaceAll(pemText, "\n", " ")}, client.Cert, nil},
		{"plain PEM, line breaks as tabs (nginx $ssl_client_cert)", mtls.Source{Header: nginx, Proxies: trust}, proxyPeer, nil,
			[]string{strings.ReplaceAll(strings.TrimSpace(pemText), "\n", "\n\t")}, client.Cert, nil},
		{"form-escaped PEM", mtls.Source{Header: nginx, Proxies: trust}, proxyPeer, nil,
			[]string{url.QueryEscape(pemText)}, client.Cert, nil},
		{"path-escaped PEM", mtls.Source{Header: nginx, Proxies: trust}, proxyPeer, nil,
			[]string{url.PathEscape(pemText)}, client.Cert, nil},
		{"base64 DER (HAProxy)", mtls.Source{Header: nginx, Proxies: trust}, proxyPeer, nil,
			[]string{base64.StdEncoding.EncodeToString(client.Cert.Raw)}, client.Cert, nil},
		{"mapped IPv4 proxy address", mtls.Source{Header: nginx, Proxies: trust}, "[::ffff:10.0.0.5]:1", nil,
			[]string{mtlstest.EscapedPEM(client.Cert)}, client.Cert, nil},
		{"Envoy XFCC with Cert and Chain", mtls.Source{Header: mtls.XFCCHeader, Proxies: trust}, proxyPeer, nil,
			[]string{mtlstest.XFCC(client.Cert, inter.Cert)}, client.Cert, []*x509.Certificate{inter.Cert}},
		{"Envoy XFCC Cert only, header name in lower case", mtls.Source{Header: "x-forwarded-client-cert", Proxies: trust}, proxyPeer, nil,
			[]string{mtlstest.XFCC(client.Cert)}, client.Cert, nil},
		{"Envoy XFCC Chain only", mtls.Source{Header: mtls.XFCCHeader, Proxies: trust}, proxyPeer, nil,
			[]string{`By=spiffe://x;Chain="` + mtlstest.EscapedPEM(client.Cert, inter.Cert) + `"`}, client.Cert, []*x509.Certificate{inter.Cert}},
		{"Envoy XFCC: the last element, added by the trusted proxy", mtls.Source{Header: mtls.XFCCHeader, Proxies: trust}, proxyPeer, nil,
			[]string{mtlstest.XFCC(other.Cert) + "," + mtlstest.XFCC(client.Cert)}, client.Cert, nil},
		{"Envoy XFCC over two header lines", mtls.Source{Header: mtls.XFCCHeader, Proxies: trust}, proxyPeer, nil,
			[]string{mtlstest.XFCC(other.Cert), mtlstest.XFCC(client.Cert)}, client.Cert, nil},
		{"Envoy XFCC unquoted Cert, spaces", mtls.Source{Header: mtls.XFCCHeader, Proxies: trust}, proxyPeer, nil,
			[]string{`Hash=ab ; Cert=` + mtlstest.EscapedPEM(client.Cert) + ` ;URI=spiffe://x/y`}, client.Cert, nil},
		{"Envoy XFCC from an untrusted peer is ignored", mtls.Source{Header: mtls.XFCCHeader, Proxies: trust}, clientPeer, nil,
			[]string{mtlstest.XFCC(client.Cert)}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/oauth/token", nil)
			r.RemoteAddr = tt.peer
			if tt.tls != nil {
				r.TLS = &tls.ConnectionState{PeerCertificates: tt.tls}
			}
			for _, h := range tt.headers {
				r.Header.Add(tt.src.Header, h)
			}
			leaf, chain, err := tt.src.Certificate(r)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if !sameCert(leaf, tt.wantLeaf) {
				t.Errorf("leaf: got %s, want %s", name(leaf), name(tt.wantLeaf))
			}
			if len(chain) != len(tt.wantChain) {
				t.Fatalf("chain: got %d certificates, want %d", len(chain), len(tt.wantChain))
			}
			for i := range chain {
				if !sameCert(chain[i], tt.wantChain[i]) {
					t.Errorf("chain[%d]: got %s, want %s", i, name(chain[i]), name(tt.wantChain[i]))
				}
			}
		})
	}
}

func TestCertificateMalformedHeader(t *testing.T) {
	root := mtlstest.NewCA(t, "root")
	client := root.Client(t, "billing")
	pemText := string(mtlstest.PEM(client.Cert))
	body := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(pemText), "-----BEGIN CERTIFICATE-----"), "-----END CERTIFICATE-----")
	many := strings.Repeat(pemText, 11)
	trust := proxy.NewTrust([]string{"10.0.0.0/8"})

	tests := []struct {
		name, header string
		values       []string
		want         string
	}{
		{"garbage", nginx, []string{"hello world"}, "base64"},
		{"bad URL escape", nginx, []string{"-----BEGIN%ZZ"}, "URL escape"},
		{"no END line", nginx, []string{"-----BEGIN CERTIFICATE-----" + body}, "END"},
		{"not base64 inside PEM", nginx, []string{"-----BEGIN CERTIFICATE-----!!!!-----END CERTIFICATE-----"}, "base64"},
		{"base64 but not a certificate", nginx, []string{base64.StdEncoding.EncodeToString([]byte("not DER"))}, "X.509"},
		{"a key, not a certificate", nginx, []string{"-----BEGIN PRIVATE KEY-----abc-----END PRIVATE KEY-----"}, "not a PEM certificate"},
		{"text after the certificate", nginx, []string{pemText + "trailer"}, "not a PEM certificate"},
		{"two header lines", nginx, []string{mtlstest.EscapedPEM(client.Cert), mtlstest.EscapedPEM(client.Cert)}, "2 times"},
		{"too many certificates", nginx, []string{many}, "more than 10"},
		{"too large", nginx, []string{strings.Repeat("A", 33<<10)}, "bytes"},
		{"XFCC unclosed quote", mtls.XFCCHeader, []string{`Cert="abc`}, "not closed"},
		{"XFCC key without value", mtls.XFCCHeader, []string{`Hash=ab;Cert`}, "without a value"},
		{"XFCC pair without key", mtls.XFCCHeader, []string{`=abc`}, "without a key"},
		{"XFCC long key without value, cut short", mtls.XFCCHeader, []string{strings.Repeat("k", 5000)}, `"` + strings.Repeat("k", 40) + `..." without a value`},
		{"XFCC repeated key", mtls.XFCCHeader, []string{`Cert=a;cert=b`}, "repeated"},
		{"XFCC unquoted quote", mtls.XFCCHeader, []string{`Subject=a"b`}, "quoted"},
		{"XFCC text after quotes", mtls.XFCCHeader, []string{`Subject="a"b`}, "followed by text"},
		{"XFCC trailing backslash", mtls.XFCCHeader, []string{`Subject="a\`}, "backslash"},
		{"XFCC last element without a certificate", mtls.XFCCHeader, []string{mtlstest.XFCC(client.Cert) + `,Hash=ab;Subject="CN=x"`}, "neither Cert nor Chain"},
		{"XFCC Cert with two certificates", mtls.XFCCHeader, []string{`Cert="` + mtlstest.EscapedPEM(client.Cert, client.Cert) + `"`}, "want 1"},
		{"XFCC bad Cert", mtls.XFCCHeader, []string{`Cert="%2D%2D%2D%2D%2DBEGIN"`}, "Cert"},
		{"XFCC too many elements", mtls.XFCCHeader, []string{strings.Repeat("By=x,", 11)}, "more than 10 XFCC elements"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/oauth/token", nil)
			r.RemoteAddr = proxyPeer
			for _, v := range tt.values {
				r.Header.Add(tt.header, v)
			}
			leaf, chain, err := mtls.Source{Header: tt.header, Proxies: trust}.Certificate(r)
			if err == nil {
				t.Fatalf("got leaf %s and no error, want an error mentioning %q", name(leaf), tt.want)
			}
			if leaf != nil || chain != nil {
				t.Errorf("got a certificate with the error")
			}
			if !errors.Is(err, mtls.ErrMalformedHeader) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.header) {
				t.Errorf("got %q, want ErrMalformedHeader naming %s and mentioning %q", err, tt.header, tt.want)
			}
		})
	}
}

func sameCert(a, b *x509.Certificate) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(b)
}

func name(c *x509.Certificate) string {
	if c == nil {
		return "none"
	}
	return c.Subject.String()
}
