package proxy

import (
	"fmt"
	"net/netip"
	"strings"
)

// CheckSettings checks proxy settings as an operator wrote them, for
// `gatehouse serve` and the gateway alike: every entry of proxies
// (trusted_proxies) a CIDR prefix or a single address, and certHeader
// (client_cert_header, empty when unset) an RFC 9110 field name with a
// trusted proxy it can come from. proxiesName is how the operator set the
// proxies, such as "trusted_proxies (--trusted-proxy)", for the errors;
// it returns one error a problem.
func CheckSettings(proxiesName string, proxies []string, certHeader string) []error {
	var problems []error
	for _, p := range proxies {
		if _, ok := parseEntry(p); !ok {
			problems = append(problems, fmt.Errorf("%s: %q is not an IP address or CIDR prefix", proxiesName, p))
		}
	}
	switch {
	case certHeader == "":
	case !isHeaderName(certHeader):
		problems = append(problems, fmt.Errorf("client_cert_header %q is not an HTTP header name", certHeader))
	case len(proxies) == 0:
		problems = append(problems, fmt.Errorf("client_cert_header %q needs %s: the header is read only from a trusted proxy, so without one no certificate would ever arrive",
			certHeader, proxiesName))
	}
	return problems
}

// parseEntry reads one trusted proxy: a CIDR prefix, or a single address
// as the prefix of its full length.
func parseEntry(s string) (netip.Prefix, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	return netip.Prefix{}, false
}

// isHeaderName reports whether s is an RFC 9110 field name (a token).
func isHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}
