package jwks

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// OutsideClient returns an HTTP client for documents named by outside
// parties (a client's jwks_uri): it refuses to connect to loopback,
// link-local (cloud metadata endpoints live there), unspecified and
// multicast addresses, whatever name resolved to them, so a registered
// URL cannot make gatehouse fetch from itself or its host. Private
// networks stay reachable: a platform may well serve its clients' keys
// from one. timeout bounds each request.
func OutsideClient(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, Control: refuseInternal}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConns:          16,
		IdleConnTimeout:       90 * time.Second,
	}
	return &http.Client{Timeout: timeout, Transport: transport}
}

// refuseInternal is the dialer's last word, on the address actually dialed.
func refuseInternal(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("jwks: dialing %q: %w", address, err)
	}
	a := ap.Addr().Unmap()
	if a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsUnspecified() || a.IsMulticast() {
		return fmt.Errorf("jwks: refusing to fetch from %s: a loopback, link-local or unspecified address", a)
	}
	return nil
}
