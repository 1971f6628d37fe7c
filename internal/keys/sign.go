package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// jwsSigner makes the compact JWS of gatehouse's own tokens by hand: the
// protected header is encoded once per key, and the signing input and the
// token are built in a pooled buffer, so one signature costs the
// algorithm's own allocations and one for the token (go-jose's signer
// spent about sixty more, reflection and maps, on every token). Tests
// verify its tokens with go-jose and with the verify package.
type jwsSigner struct {
	priv   crypto.Signer
	header string // base64url of {"alg","kid","typ":"at+jwt"}, then "."
}

func newJWSSigner(alg, kid string, priv crypto.Signer) (*jwsSigner, error) {
	h, err := json.Marshal(struct {
		Alg string `json:"alg"`
		KID string `json:"kid"`
		Typ string `json:"typ"`
	}{alg, kid, "at+jwt"})
	if err != nil {
		return nil, err
	}
	return &jwsSigner{priv: priv, header: base64.RawURLEncoding.EncodeToString(h) + "."}, nil
}

var jwsBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// sign returns header.payload.signature, all base64url.
func (s *jwsSigner) sign(payload []byte) (string, error) {
	bp := jwsBuffers.Get().(*[]byte)
	defer jwsBuffers.Put(bp)
	b := append((*bp)[:0], s.header...)
	b = base64.RawURLEncoding.AppendEncode(b, payload)
	var sig [64]byte
	var raw []byte
	switch k := s.priv.(type) {
	case ed25519.PrivateKey:
		raw = ed25519.Sign(k, b)
	case *ecdsa.PrivateKey:
		sum := sha256.Sum256(b)
		der, err := ecdsa.SignASN1(rand.Reader, k, sum[:])
		if err != nil {
			return "", err
		}
		if raw, err = rawECDSA(sig[:0], der); err != nil {
			return "", err
		}
	case *rsa.PrivateKey:
		sum := sha256.Sum256(b)
		var err error
		if raw, err = rsa.SignPKCS1v15(nil, k, crypto.SHA256, sum[:]); err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("cannot sign with a %T", s.priv)
	}
	b = append(b, '.')
	b = base64.RawURLEncoding.AppendEncode(b, raw)
	*bp = b
	return string(b), nil
}

// rawECDSA turns an ASN.1 P-256 signature into JWS's 64-byte r || s
// (RFC 7518 §3.4), appended to dst.
func rawECDSA(dst, der []byte) ([]byte, error) {
	var seq, r, s cryptobyte.String
	in := cryptobyte.String(der)
	if !in.ReadASN1(&seq, asn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1(&r, asn1.INTEGER) || !seq.ReadASN1(&s, asn1.INTEGER) || !seq.Empty() {
		return nil, errors.New("ecdsa: malformed signature")
	}
	for _, v := range []cryptobyte.String{r, s} {
		for len(v) > 0 && v[0] == 0 { // ASN.1's sign byte
			v = v[1:]
		}
		if len(v) > 32 {
			return nil, errors.New("ecdsa: signature too long for P-256")
		}
		for range 32 - len(v) {
			dst = append(dst, 0)
		}
		dst = append(dst, v...)
	}
	return dst, nil
}
