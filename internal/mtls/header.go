package mtls

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

const (
	pemBegin = "-----BEGIN CERTIFICATE-----"
	pemEnd   = "-----END CERTIFICATE-----"
)

// parsePEMHeader reads the PEM forms of Source.Certificate: URL-escaped or
// plain PEM with any whitespace for line breaks, or base64 DER.
func parsePEMHeader(v string) ([]*x509.Certificate, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	if strings.Contains(v, "%") {
		unescape := url.PathUnescape
		if strings.HasPrefix(v, "-----BEGIN+") {
			// Form-style escaping: '+' is a space, a base64 '+' is %2B.
			unescape = url.QueryUnescape
		}
		u, err := unescape(v)
		if err != nil {
			return nil, errors.New("bad URL escape")
		}
		v = strings.TrimSpace(u)
	}
	if strings.HasPrefix(v, "-----") {
		return parsePEM(v)
	}
	cert, err := parseBase64DER(v)
	if err != nil {
		return nil, err
	}
	return []*x509.Certificate{cert}, nil
}

// parsePEM reads a sequence of CERTIFICATE blocks, tolerating any
// whitespace inside and between them (proxies turn line breaks into
// spaces, tabs or nothing). Anything else is an error.
func parsePEM(s string) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := strings.TrimSpace(s); rest != ""; rest = strings.TrimSpace(rest) {
		if len(certs) == maxCerts {
			return nil, fmt.Errorf("more than %d certificates", maxCerts)
		}
		body, ok := strings.CutPrefix(rest, pemBegin)
		if !ok {
			return nil, errors.New("not a PEM certificate")
		}
		body, after, ok := strings.Cut(body, pemEnd)
		if !ok {
			return nil, errors.New("PEM certificate without its END line")
		}
		cert, err := parseBase64DER(body)
		if err != nil {
			return nil, err
		}
		certs = append(certs, cert)
		rest = after
	}
	return certs, nil
}

// parseBase64DER decodes standard base64 (whitespace ignored) and parses
// the DER certificate it holds.
func parseBase64DER(s string) (*x509.Certificate, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("certificate is not valid base64")
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("not an X.509 certificate: %w", err)
	}
	return cert, nil
}

// parseXFCC reads the last element of an X-Forwarded-Client-Cert value
// (see Source.Certificate for why the last): its Cert, or failing that the
// first certificate of its Chain, is the leaf; the rest of Chain follows.
// An element with neither is an error: the proxy vouches for a client
// certificate it did not pass on, which is a proxy configuration problem
// to report rather than a client without a certificate.
func parseXFCC(v string) ([]*x509.Certificate, error) {
	elements, err := splitXFCC(v)
	if err != nil {
		return nil, err
	}
	if len(elements) == 0 {
		return nil, nil
	}
	last := elements[len(elements)-1]
	var leaf []*x509.Certificate
	if c, ok := last["cert"]; ok {
		if leaf, err = xfccCerts("Cert", c); err != nil {
			return nil, err
		}
		if len(leaf) != 1 {
			return nil, fmt.Errorf("Cert holds %d certificates, want 1", len(leaf))
		}
	}
	var chain []*x509.Certificate
	if c, ok := last["chain"]; ok {
		if chain, err = xfccCerts("Chain", c); err != nil {
			return nil, err
		}
	}
	switch {
	case leaf == nil && chain == nil:
		return nil, errors.New("the last XFCC element has neither Cert nor Chain (Envoy: set_current_client_cert_details cert: true)")
	case leaf == nil:
		return chain, nil
	case len(chain) > 0 && chain[0].Equal(leaf[0]):
		return chain, nil
	default:
		return append(leaf, chain...), nil
	}
}

func xfccCerts(key, v string) ([]*x509.Certificate, error) {
	u, err := url.PathUnescape(v)
	if err != nil {
		return nil, fmt.Errorf("%s: bad URL escape", key)
	}
	certs, err := parsePEM(u)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return certs, nil
}

// splitXFCC splits an XFCC value into elements (separated by ','), each a
// map of lower-cased keys to values (pairs separated by ';', key and value
// by '='). A value may be double-quoted, with \" for a quote inside it,
// and then may hold ',', ';' and '='.
func splitXFCC(v string) ([]map[string]string, error) {
	var elements []map[string]string
	el := map[string]string{}
	for i := 0; i <= len(v); {
		// One key=value pair, or an empty one between separators.
		j := i
		for j < len(v) && v[j] != '=' && v[j] != ';' && v[j] != ',' {
			j++
		}
		key := strings.ToLower(strings.TrimSpace(v[i:j]))
		i = j
		if i < len(v) && v[i] == '=' {
			value, next, err := xfccValue(v, i+1)
			if err != nil {
				return nil, err
			}
			if key == "" {
				return nil, errors.New("XFCC pair without a key")
			}
			if _, dup := el[key]; dup {
				return nil, fmt.Errorf("XFCC key %q repeated in one element", short(key))
			}
			el[key] = value
			i = next
		} else if key != "" {
			return nil, fmt.Errorf("XFCC key %q without a value", short(key))
		}
		if i >= len(v) || v[i] == ',' {
			if len(el) > 0 {
				if len(elements) == maxXFCCElements {
					return nil, fmt.Errorf("more than %d XFCC elements", maxXFCCElements)
				}
				elements = append(elements, el)
				el = map[string]string{}
			}
		}
		i++ // past ';' or ',' (or the end)
	}
	return elements, nil
}

// xfccValue reads a value starting at v[i] and returns it with the index
// of the separator (or end) that follows it.
func xfccValue(v string, i int) (string, int, error) {
	for i < len(v) && v[i] == ' ' {
		i++
	}
	if i >= len(v) || v[i] != '"' {
		j := i
		for j < len(v) && v[j] != ';' && v[j] != ',' {
			if v[j] == '"' || v[j] == '=' {
				return "", 0, errors.New("XFCC value with '\"' or '=' must be quoted")
			}
			j++
		}
		return strings.TrimSpace(v[i:j]), j, nil
	}
	var b strings.Builder
	for j := i + 1; j < len(v); j++ {
		switch v[j] {
		case '\\':
			if j+1 == len(v) {
				return "", 0, errors.New("XFCC value ends in a backslash")
			}
			j++
			b.WriteByte(v[j])
		case '"':
			k := j + 1
			for k < len(v) && v[k] == ' ' {
				k++
			}
			if k < len(v) && v[k] != ';' && v[k] != ',' {
				return "", 0, errors.New("XFCC quoted value followed by text")
			}
			return b.String(), k, nil
		default:
			b.WriteByte(v[j])
		}
	}
	return "", 0, errors.New("XFCC quoted value not closed")
}

// short cuts text from a header to a length fit for an error message.
func short(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
