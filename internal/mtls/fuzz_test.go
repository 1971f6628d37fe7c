package mtls

import (
	"net/url"
	"strings"
	"testing"
)

// A small self-signed certificate for the seed corpus (P-256, CN=seed).
const seedPEM = `-----BEGIN CERTIFICATE-----
MIIBCTCBsaADAgECAgEBMAoGCCqGSM49BAMCMA8xDTALBgNVBAMTBHNlZWQwHhcN
MjUwMTAxMDAwMDAwWhcNMzUwMTAxMDAwMDAwWjAPMQ0wCwYDVQQDEwRzZWVkMFkw
EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEE31ICbiObqmUCF5QQqTxVr2ofoJF3csy
mkghwtYyHXOF8rzg/CXsE5gILhxwpXu8V3H+Hvb7okPBoVcs4lrhiTAKBggqhkjO
PQQDAgNHADBEAiBKf89BigXgLd49HUDzJ0UH44w5yBDuhjii0ldxnFGQOQIgSngO
P7E4ikDSYLb38ntxafMuc6oONn4JHLa7zqiFBwg=
-----END CERTIFICATE-----
`

// FuzzHeaders feeds one value to both header parsers: neither may panic,
// and a value they accept gives certificates, never nil entries.
func FuzzHeaders(f *testing.F) {
	escaped := url.PathEscape(seedPEM)
	for _, s := range []string{
		"", seedPEM, escaped, strings.ReplaceAll(seedPEM, "\n", " "), strings.ReplaceAll(seedPEM, "\n", "\n\t"),
		`By=spiffe://a;Hash=ab;Cert="` + escaped + `";Chain="` + escaped + `"`,
		`Cert=` + escaped + `,By=x;Cert="` + escaped + `"`,
		`Subject="CN=a\"b,O=c";URI=spiffe://x,DNS=a`,
		`a=";,=\"`, "-----BEGIN CERTIFICATE-----", "%", `=`, `,,;;`, `"`,
	} {
		f.Add(s)
	}
	if certs, err := parsePEMHeader(seedPEM); err != nil || len(certs) != 1 {
		f.Fatalf("seed certificate: got %d certificates, %v; want 1", len(certs), err)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if certs, err := parsePEMHeader(v); err == nil {
			for _, c := range certs {
				if c == nil {
					t.Fatalf("parsePEMHeader(%q): nil certificate without an error", v)
				}
			}
		}
		if certs, err := parseXFCC(v); err == nil {
			if len(certs) > maxCerts*2 {
				t.Fatalf("parseXFCC(%q): %d certificates", v, len(certs))
			}
			for _, c := range certs {
				if c == nil {
					t.Fatalf("parseXFCC(%q): nil certificate without an error", v)
				}
			}
		}
	})
}

// FuzzParseDN: the DN parser reads what an admin types; it must not
// panic, and a DN it accepts has only non-empty RDNs with OIDs.
func FuzzParseDN(f *testing.F) {
	for _, s := range []string{
		"CN=billing,O=Acme\\, Inc.,C=DE", "cn=a+ou=b , o=c", "2.5.4.3=x", "OID.2.5.4.3=\\C3\\A9",
		"CN=#0403", "CN=", "=x", "CN=a\\", "CN=a\\4", "CN=\\ a\\ ", "CN=a;O=b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDN(s)
		if err != nil {
			return
		}
		for _, r := range d {
			if len(r) == 0 {
				t.Fatalf("parseDN(%q): empty RDN", s)
			}
			for _, a := range r {
				if a.oid == "" || a.value == "" {
					t.Fatalf("parseDN(%q): attribute %+v", s, a)
				}
			}
		}
	})
}
