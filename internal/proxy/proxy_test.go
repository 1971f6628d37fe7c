package proxy

import (
	"net/http/httptest"
	"testing"
)

func TestClientAddrAndHost(t *testing.T) {
	trust := NewTrust([]string{"10.0.0.0/8", "192.0.2.7", "not-an-address"})
	tests := []struct {
		name      string
		trust     *Trust
		peer, xff string
		xfh, host string
		wantAddr  string
		wantHost  string
	}{
		{"no proxy trusted", nil, "203.0.113.5:4000", "198.51.100.1", "evil.example", "Auth.Example.io:8443", "203.0.113.5", "auth.example.io"},
		{"untrusted peer", trust, "203.0.113.5:4000", "198.51.100.1", "evil.example", "auth.example.io", "203.0.113.5", "auth.example.io"},
		{"trusted CIDR", trust, "10.1.2.3:4000", "198.51.100.1", "Legacy.Example.io.", "auth.example.io", "198.51.100.1", "legacy.example.io"},
		{"trusted single address", trust, "192.0.2.7:4000", "198.51.100.1, 10.9.9.9", "", "auth.example.io", "198.51.100.1", "auth.example.io"},
		{"all hops trusted", trust, "10.1.2.3:4000", "10.2.2.2", "", "h", "10.1.2.3", "h"},
		{"garbage hop stops the walk", trust, "10.1.2.3:4000", "198.51.100.1, junk", "", "h", "10.1.2.3", "h"},
		{"mapped IPv4 peer", trust, "[::ffff:10.1.2.3]:4000", "198.51.100.9", "", "h", "198.51.100.9", "h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/oauth/token", nil)
			r.RemoteAddr, r.Host = tt.peer, tt.host
			r.Header.Set("X-Forwarded-For", tt.xff)
			if tt.xfh != "" {
				r.Header.Set("X-Forwarded-Host", tt.xfh)
			}
			if got := tt.trust.ClientAddr(r); got != tt.wantAddr {
				t.Errorf("ClientAddr = %q, want %q", got, tt.wantAddr)
			}
			if got := tt.trust.Host(r); got != tt.wantHost {
				t.Errorf("Host = %q, want %q", got, tt.wantHost)
			}
		})
	}
}
