package proxy

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// Trust decides whose X-Forwarded-* headers count. The zero value and a
// nil *Trust trust no proxy: every address is the connection's peer.
type Trust struct{ prefixes []netip.Prefix }

// NewTrust trusts the proxies in cidrs (CIDR prefixes or single addresses;
// entries that are neither are skipped, CheckSettings refuses them).
func NewTrust(cidrs []string) *Trust {
	t := &Trust{}
	for _, c := range cidrs {
		if p, ok := parseEntry(c); ok {
			t.prefixes = append(t.prefixes, p)
		}
	}
	return t
}

// Trusted reports whether the connection's peer is a trusted proxy.
func (t *Trust) Trusted(r *http.Request) bool {
	if t == nil || len(t.prefixes) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	return t.contains(ap.Addr().Unmap())
}

func (t *Trust) contains(a netip.Addr) bool {
	return slices.ContainsFunc(t.prefixes, func(p netip.Prefix) bool { return p.Contains(a) })
}

// ClientAddr is the caller's address: the connection's peer, or the last
// untrusted hop of X-Forwarded-For when the peer is a trusted proxy.
func (t *Trust) ClientAddr(r *http.Request) string {
	host := PeerHost(r)
	if !t.Trusted(r) {
		return host
	}
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !t.contains(a.Unmap()) {
			return a.Unmap().String()
		}
	}
	return host
}

// Host is the host name the request was sent to, from X-Forwarded-Host
// only behind a trusted proxy; lower-case, without port or trailing dot.
func (t *Trust) Host(r *http.Request) string {
	h := r.Host
	if t.Trusted(r) {
		if fh := r.Header.Get("X-Forwarded-Host"); fh != "" {
			h, _, _ = strings.Cut(fh, ",")
			h = strings.TrimSpace(h)
		}
	}
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

// PeerHost is the connection's peer address without its port.
func PeerHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
