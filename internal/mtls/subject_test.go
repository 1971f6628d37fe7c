package mtls_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/mtls"
	"github.com/gatehouse/gatehouse/internal/mtls/mtlstest"
)

var (
	oidCN = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidO  = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOU = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidC  = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidDC = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}
)

func rawSubject(t *testing.T, seq pkix.RDNSequence) []byte {
	t.Helper()
	der, err := asn1.Marshal(seq)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestSubjectMatches(t *testing.T) {
	ca := mtlstest.NewCA(t, "root")
	billing := ca.Issue(t, mtlstest.Spec{
		Subject:  pkix.Name{CommonName: "billing", Organization: []string{"Acme, Inc."}, Country: []string{"DE"}},
		DNSNames: []string{"billing.svc.example.io", "*.jobs.example.io"},
		URIs:     []string{"spiffe://prod.example.io/ns/billing/sa/export"},
		Emails:   []string{"Billing.Bot@Example.io"},
	}).Cert
	// DC=io,DC=example,OU=ops+CN=deploy in RFC 4514 order: a multi-valued
	// RDN, and an order pkix.Name would not write.
	multi := ca.Issue(t, mtlstest.Spec{RawSubject: rawSubject(t, pkix.RDNSequence{
		{{Type: oidDC, Value: "io"}},
		{{Type: oidDC, Value: "example"}},
		{{Type: oidOU, Value: "ops"}, {Type: oidCN, Value: "deploy"}},
	})}).Cert
	accented := ca.Issue(t, mtlstest.Spec{Subject: pkix.Name{CommonName: "café", Organization: []string{"a+b=c"}}}).Cert

	tests := []struct {
		name        string
		kind, value string
		cert        *x509.Certificate
		want        bool
	}{
		{"dn as Go prints it", "dn", billing.Subject.String(), billing, true},
		{"dn", "dn", `CN=billing,O=Acme\, Inc.,C=DE`, billing, true},
		{"dn types in any case, spaces around separators", "dn", `cn = billing , o=Acme\, Inc. ,  c=DE`, billing, true},
		{"dn hex escape", "dn", `CN=billing,O=Acme\2C Inc.,C=DE`, billing, true},
		{"dn dotted OIDs", "dn", `2.5.4.3=billing,OID.2.5.4.10=Acme\, Inc.,2.5.4.6=DE`, billing, true},
		{"dn RDNs in another order", "dn", `C=DE,O=Acme\, Inc.,CN=billing`, billing, false},
		{"dn missing an RDN", "dn", `CN=billing,O=Acme\, Inc.`, billing, false},
		{"dn with an extra RDN", "dn", `CN=billing,OU=x,O=Acme\, Inc.,C=DE`, billing, false},
		{"dn value case matters", "dn", `CN=Billing,O=Acme\, Inc.,C=DE`, billing, false},
		{"dn another certificate", "dn", `CN=billing,O=Acme\, Inc.,C=DE`, multi, false},
		{"dn multi-valued RDN", "dn", `OU=ops+CN=deploy,DC=example,DC=io`, multi, true},
		{"dn multi-valued RDN in any order", "dn", `CN=deploy+OU=ops,DC=example,DC=io`, multi, true},
		{"dn multi-valued RDN split in two", "dn", `CN=deploy,OU=ops,DC=example,DC=io`, multi, false},
		{"dn UTF-8 by escape", "dn", `CN=caf\C3\A9,O=a\+b=c`, accented, true},
		{"dn UTF-8 literal", "dn", `CN=café,O=a\+b\=c`, accented, true},
		{"dns", "dns", "billing.svc.example.io", billing, true},
		{"dns case and trailing dot", "dns", "Billing.SVC.example.io.", billing, true},
		{"dns another name", "dns", "payroll.svc.example.io", billing, false},
		{"dns wildcard only literally", "dns", "a.jobs.example.io", billing, false},
		{"dns wildcard literal", "dns", "*.jobs.example.io", billing, true},
		{"uri SPIFFE ID", "uri", "spiffe://prod.example.io/ns/billing/sa/export", billing, true},
		{"uri another service account", "uri", "spiffe://prod.example.io/ns/billing/sa/import", billing, false},
		{"uri prefix is not enough", "uri", "spiffe://prod.example.io/ns/billing", billing, false},
		{"email, domain in any case", "email", "Billing.Bot@example.IO", billing, true},
		{"email local part case matters", "email", "billing.bot@example.io", billing, false},
		{"dns name is not a URI", "uri", "billing.svc.example.io", billing, false},
		{"unknown kind", "ip", "10.0.0.1", billing, false},
		{"invalid dn", "dn", "billing", billing, false},
		{"no certificate", "dns", "billing.svc.example.io", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mtls.Subject{Kind: tt.kind, Value: tt.value}
			if got := s.Matches(tt.cert); got != tt.want {
				t.Errorf("%s %q against %v: got %v, want %v", tt.kind, tt.value, subjectOf(tt.cert), got, tt.want)
			}
		})
	}
}

func subjectOf(c *x509.Certificate) string {
	if c == nil {
		return "no certificate"
	}
	return c.Subject.String()
}

func TestParseSubject(t *testing.T) {
	valid := []struct{ kind, value, stored string }{
		{"dn", " CN=billing,O=Acme\\, Inc.,C=DE ", "CN=billing,O=Acme\\, Inc.,C=DE"},
		{"dn", "UID=42+CN=x,DC=example,DC=io", "UID=42+CN=x,DC=example,DC=io"},
		{"dn", "emailAddress=a@b.io,CN=x", "emailAddress=a@b.io,CN=x"},
		{"dns", "Billing.Example.IO.", "billing.example.io"},
		{"dns", "*.jobs.example.io", "*.jobs.example.io"},
		{"dns", "svc_1.internal", "svc_1.internal"},
		{"uri", "spiffe://trust.domain/ns/x/sa/y", "spiffe://trust.domain/ns/x/sa/y"},
		{"uri", "urn:example:client:7", "urn:example:client:7"},
		{"email", "bot@example.io", "bot@example.io"},
	}
	for _, tt := range valid {
		t.Run(tt.kind+" "+tt.value, func(t *testing.T) {
			s, err := mtls.ParseSubject(tt.kind, tt.value)
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			if s.Kind != tt.kind || s.Value != tt.stored {
				t.Errorf("got %+v, want {%s %s}", s, tt.kind, tt.stored)
			}
		})
	}
	invalid := []struct{ kind, value, want string }{
		{"dn", "", "empty"},
		{"dn", "billing", "no '='"},
		{"dn", "CN=", "empty value"},
		{"dn", "CN=a,,O=b", "no '='"},
		{"dn", "CN=a,", "no '='"},
		{"dn", "XX=a", `unknown attribute type "XX"`},
		{"dn", "=a", "without a type"},
		{"dn", "CN=#04036162", "hex-encoded"},
		{"dn", "CN=a;O=b", "escaped"},
		{"dn", `CN=a"b`, "escaped"},
		{"dn", `CN=a\`, "backslash"},
		{"dn", `CN=a\zz`, "bad escape"},
		{"dn", `CN=\ff`, "UTF-8"},
		{"dn", "1.2=a,01.2=b", "unknown attribute type"},
		{"dns", "billing..example.io", "not a DNS name"},
		{"dns", "bill ing.example.io", "not allowed"},
		{"dns", "a.*.example.io", "not allowed"},
		{"dns", strings.Repeat("a", 64) + ".io", "not a DNS name"},
		{"uri", "no-scheme/path", "not an absolute URI"},
		{"uri", "spiffe://%zz", "not a URI"},
		{"email", "bot.example.io", "not an email"},
		{"email", "a@b@c", "not an email"},
		{"email", "@example.io", "not an email"},
		{"ip", "10.0.0.1", "not one of dn, dns, uri, email"},
		{"", "x", "not one of"},
	}
	for _, tt := range invalid {
		t.Run(tt.kind+" "+tt.value, func(t *testing.T) {
			s, err := mtls.ParseSubject(tt.kind, tt.value)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %+v, %v; want an error containing %q", s, err, tt.want)
			}
		})
	}
}
