package mtls

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/proxy"
)

// XFCCHeader is Envoy's header; a Source with this Header reads Envoy's
// format, any other name the PEM forms nginx and others send.
const XFCCHeader = "X-Forwarded-Client-Cert"

// Limits on what a header may carry. The listener's 32 KiB header limit
// applies first; these keep parsing bounded wherever a Source is used.
const (
	maxHeaderBytes  = 32 << 10
	maxCerts        = 10 // in one PEM list or XFCC Cert/Chain
	maxXFCCElements = 10 // proxy hops in one XFCC header
)

// ErrMalformedHeader is wrapped by every error about a certificate header
// that a trusted proxy sent but that cannot be read.
var ErrMalformedHeader = errors.New("malformed client certificate header")

// Source says where a request's client certificate comes from.
//
//   - From a trusted proxy (Proxies.Trusted) when Header is set: the
//     certificate in Header, and only there. A TLS certificate on that
//     connection is the proxy's own, not the client's, so it is not used.
//   - From anyone else: the certificate presented on the TLS connection
//     when gatehouse terminates TLS. Header is ignored, whatever it holds.
//
// The zero value reads TLS connections only.
type Source struct {
	// Header is the request header a TLS-terminating proxy puts the
	// client certificate in; empty reads no header.
	Header string
	// Proxies decides whose Header counts; nil trusts no one.
	Proxies *proxy.Trust
}

// Certificate returns the client's certificate and the certificates it
// sent after it (intermediates, never trusted as roots). No certificate
// is (nil, nil, nil); an error means a trusted proxy sent a header that
// cannot be read (ErrMalformedHeader).
//
// Header formats, chosen by the header's name:
//   - X-Forwarded-Client-Cert: Envoy's comma-separated elements of
//     semicolon-separated key=value pairs, one element per proxy hop that
//     appended one. The last element is read: the one added nearest
//     gatehouse, by the trusted proxy or by an edge proxy whose element it
//     forwarded unchanged (FORWARD_ONLY). Earlier elements were added
//     before that, by hops, or a client, gatehouse knows nothing about.
//     Its Cert is the leaf; its Chain (leaf first, as Envoy sends it)
//     gives the intermediates.
//   - any other name: one or more PEM certificates, leaf first,
//     URL-escaped (nginx's $ssl_client_escaped_cert, AWS ALB) or plain
//     with its line breaks turned into spaces or tabs (nginx's older
//     $ssl_client_cert); or base64 DER without PEM armour (HAProxy's
//     ssl_c_der,base64).
func (s Source) Certificate(r *http.Request) (leaf *x509.Certificate, chain []*x509.Certificate, err error) {
	if s.Header != "" && s.Proxies.Trusted(r) {
		return s.fromHeader(r.Header.Values(s.Header))
	}
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, nil, nil
	}
	return r.TLS.PeerCertificates[0], r.TLS.PeerCertificates[1:], nil
}

func (s Source) fromHeader(values []string) (*x509.Certificate, []*x509.Certificate, error) {
	if len(values) == 0 {
		return nil, nil, nil
	}
	size := 0
	for _, v := range values {
		size += len(v)
	}
	if size > maxHeaderBytes {
		return nil, nil, fmt.Errorf("%w: %s is %d bytes, more than %d", ErrMalformedHeader, s.Header, size, maxHeaderBytes)
	}
	var certs []*x509.Certificate
	var err error
	if strings.EqualFold(s.Header, XFCCHeader) {
		certs, err = parseXFCC(strings.Join(values, ","))
	} else {
		if len(values) > 1 {
			return nil, nil, fmt.Errorf("%w: %s appears %d times", ErrMalformedHeader, s.Header, len(values))
		}
		certs, err = parsePEMHeader(values[0])
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %w", ErrMalformedHeader, s.Header, err)
	}
	if len(certs) == 0 {
		return nil, nil, nil
	}
	return certs[0], certs[1:], nil
}
