package proxy

import (
	"fmt"
	"testing"
)

func TestCheckSettings(t *testing.T) {
	tests := []struct {
		name    string
		proxies []string
		header  string
		want    []string
	}{
		{"nothing set", nil, "", nil},
		{"prefixes and addresses", []string{"10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "::1"}, "X-SSL-Client-Cert", nil},
		{"a host name", []string{"10.0.0.0/8", "proxy.local"}, "", []string{`trusted_proxies: "proxy.local" is not an IP address or CIDR prefix`}},
		{"header without proxies", nil, "X-SSL-Client-Cert",
			[]string{`client_cert_header "X-SSL-Client-Cert" needs trusted_proxies: the header is read only from a trusted proxy, so without one no certificate would ever arrive`}},
		{"header not a name", []string{"10.0.0.1"}, "X SSL", []string{`client_cert_header "X SSL" is not an HTTP header name`}},
		{"both wrong", []string{"10.0.0.0/33"}, "X:SSL", []string{`trusted_proxies: "10.0.0.0/33" is not an IP address or CIDR prefix`,
			`client_cert_header "X:SSL" is not an HTTP header name`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := CheckSettings("trusted_proxies", tt.proxies, tt.header)
			got := make([]string, len(errs))
			for i, err := range errs {
				got[i] = err.Error()
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || len(got) != len(tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
