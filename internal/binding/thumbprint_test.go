package binding_test

import (
	"crypto/x509"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/binding"
	"github.com/gatehouse/gatehouse/internal/mtls/mtlstest"
)

func TestThumbprint(t *testing.T) {
	// SHA-256("abc") in unpadded base64url.
	if got, want := binding.Thumbprint(&x509.Certificate{Raw: []byte("abc")}), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	c := mtlstest.NewCA(t, "root").Client(t, "x").Cert
	if got := binding.Thumbprint(c); len(got) != 43 || strings.ContainsAny(got, "=+/") {
		t.Errorf("got %q, want 43 base64url characters without padding", got)
	}
}
