package mtls

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// The kinds of name a tls_client_auth client is registered with, one per
// client (RFC 8705 §2.1.2); the comments give RFC 8705's metadata names.
const (
	KindDN    = "dn"    // tls_client_auth_subject_dn
	KindDNS   = "dns"   // tls_client_auth_san_dns
	KindURI   = "uri"   // tls_client_auth_san_uri, e.g. a SPIFFE ID
	KindEmail = "email" // tls_client_auth_san_email
)

// Subject is the one name a tls_client_auth client's certificate must
// carry. Build it with ParseSubject, which checks Value; Matches reads
// Value again, so a Subject stored and loaded as plain strings works.
type Subject struct {
	Kind  string
	Value string
}

// ParseSubject checks value as a name of the given kind and returns it in
// its stored form (trimmed; a DNS name also lower-cased, without a
// trailing dot).
func ParseSubject(kind, value string) (Subject, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return Subject{}, fmt.Errorf("tls subject of kind %q is empty", kind)
	}
	var err error
	switch kind {
	case KindDN:
		_, err = parseDN(value)
	case KindDNS:
		value = normalDNS(value)
		err = checkDNS(value)
	case KindURI:
		_, err = parseURI(value)
	case KindEmail:
		_, _, err = splitEmail(value)
	default:
		return Subject{}, fmt.Errorf("tls subject kind %q is not one of dn, dns, uri, email", kind)
	}
	if err != nil {
		return Subject{}, fmt.Errorf("tls subject %s %q: %w", kind, value, err)
	}
	return Subject{Kind: kind, Value: value}, nil
}

// Matches reports whether cert carries s:
//   - dn: the subject, both sides parsed as RFC 4514 names. Normalized
//     before comparing: attribute types (names are case-insensitive and
//     equal to their dotted OIDs, "CN" = "cn" = "2.5.4.3"), escapes
//     ("\," and "\2C" are both a comma; values compare unescaped),
//     unescaped spaces around ',', '+' and '=', the order of attributes
//     inside one multi-valued RDN, and the ASN.1 string type of a value.
//     Not normalized: the order of the RDNs (as written, most specific
//     first, the order Go and OpenSSL's RFC 2253 form print), the case and
//     inner spacing of values, Unicode normalization. Hex values
//     ("#04...") are refused by ParseSubject;
//   - dns: one of the DNS SANs, case-insensitively, ignoring a trailing
//     dot, literally (a SAN *.example.com matches only the value
//     *.example.com);
//   - uri: one of the URI SANs, exactly, both sides as net/url reads and
//     prints them (the scheme is lower-cased);
//   - email: one of the email SANs, the local part exactly and the domain
//     case-insensitively.
//
// An invalid s matches nothing.
func (s Subject) Matches(cert *x509.Certificate) bool {
	if cert == nil {
		return false
	}
	switch s.Kind {
	case KindDN:
		want, err := parseDN(s.Value)
		if err != nil {
			return false
		}
		got, ok := certDN(cert)
		return ok && got.equal(want)
	case KindDNS:
		want := normalDNS(s.Value)
		for _, n := range cert.DNSNames {
			if normalDNS(n) == want {
				return true
			}
		}
	case KindURI:
		want, err := parseURI(s.Value)
		if err != nil {
			return false
		}
		for _, u := range cert.URIs {
			if u.String() == want.String() {
				return true
			}
		}
	case KindEmail:
		local, domain, err := splitEmail(s.Value)
		if err != nil {
			return false
		}
		for _, e := range cert.EmailAddresses {
			if l, d, err := splitEmail(e); err == nil && l == local && strings.EqualFold(d, domain) {
				return true
			}
		}
	}
	return false
}

func normalDNS(s string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
}

// checkDNS accepts a host name: labels of letters, digits, '-' and '_',
// the first one possibly "*".
func checkDNS(s string) error {
	if len(s) > 253 {
		return errors.New("longer than 253 characters")
	}
	for i, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return errors.New("not a DNS name")
		}
		if i == 0 && label == "*" {
			continue
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return fmt.Errorf("%q is not allowed in a DNS name", r)
			}
		}
	}
	return nil
}

func parseURI(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.New("not a URI")
	}
	if u.Scheme == "" || (u.Host == "" && u.Opaque == "" && u.Path == "") {
		return nil, errors.New("not an absolute URI")
	}
	return u, nil
}

func splitEmail(s string) (local, domain string, err error) {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(s, " \t<>") || strings.Contains(domain, "@") {
		return "", "", errors.New("not an email address")
	}
	return local, domain, nil
}

// certDN is the certificate's subject in RFC 4514 order (most specific
// RDN first). ok is false when it holds a value that is not a string,
// which no configured DN can match.
func certDN(cert *x509.Certificate) (dn, bool) {
	var seq pkix.RDNSequence
	if rest, err := asn1.Unmarshal(cert.RawSubject, &seq); err != nil || len(rest) > 0 {
		return nil, false
	}
	out := make(dn, 0, len(seq))
	for i := len(seq) - 1; i >= 0; i-- {
		var r rdn
		for _, a := range seq[i] {
			v, ok := a.Value.(string)
			if !ok {
				return nil, false
			}
			r = append(r, attr{oid: a.Type.String(), value: v})
		}
		out = append(out, r)
	}
	return out, true
}
