package jwks

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
)

func pemOf(t *testing.T, typ string, der []byte) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestFromFile(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	edDER, _ := x509.MarshalPKIXPublicKey(edPub)
	privDER, _ := x509.MarshalPKCS8PrivateKey(edPriv)
	two := append(pemOf(t, "PUBLIC KEY", ecDER), pemOf(t, "PUBLIC KEY", edDER)...)

	out, err := FromFile(two)
	if err != nil {
		t.Fatalf("two PEM public keys: got %v", err)
	}
	set, err := Parse(out)
	if err != nil || len(set.Keys()) != 2 {
		t.Fatalf("the converted set: got %v keys, %v; want 2", set, err)
	}
	ecKID, _ := Thumbprint(&ec.PublicKey)
	if ks := set.Find(ecKID, "ES256"); len(ks) != 1 {
		t.Errorf("the EC key by its thumbprint kid: got %d keys, want 1", len(ks))
	}
	if ks := set.Find("", "EdDSA"); len(ks) != 1 {
		t.Errorf("the Ed25519 key: got %d keys, want 1", len(ks))
	}
	if same, err := FromFile(out); err != nil || string(same) != string(out) {
		t.Errorf("a JWK Set is taken as it is: got %s, %v", same, err)
	}
	for name, doc := range map[string][]byte{
		"a private key": pemOf(t, "PRIVATE KEY", privDER),
		"no PEM block":  []byte("-----BEGIN nothing"),
		"garbage JSON":  []byte(`{"keys": 3}`),
	} {
		if _, err := FromFile(doc); err == nil {
			t.Errorf("%s: got no error", name)
		} else if name == "a private key" && !strings.Contains(err.Error(), "private key") {
			t.Errorf("%s: got %v, want it to say so", name, err)
		}
	}
}
