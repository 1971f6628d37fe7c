package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// The load generator signs a JWT or two for every request with the
// private_key_jwt and DPoP options: a client assertion (RFC 7523) and a
// proof (RFC 9449), each with a new jti. It shares the cores with the
// server it measures, so it signs the lean way: the header is encoded once
// per run, the claims are appended to a worker's own buffer, and only the
// signature is computed per request. That halves the client's cost per
// JWT against go-jose's signer (which marshals the header, and for DPoP
// the jwk, every time). go-jose still encodes the jwk once, and the tests
// check every JWT made here with go-jose and package dpop, as the server
// does.

// assertionLifetime is exp - iat of the client assertions: one minute,
// as package client makes them.
const assertionLifetime = 60

// jwtSigner signs compact JWTs with one key and one protected header. It
// holds nothing that changes, so workers share it.
type jwtSigner struct {
	key    crypto.Signer
	alg    string
	header []byte // base64url of the protected header, then '.'
}

// signingAlg checks that alg fits key's type, or picks it when alg is
// empty: ES256 for EC P-256, RS256 for RSA, EdDSA for Ed25519.
func signingAlg(key crypto.Signer, alg string) (string, error) {
	want := ""
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve == elliptic.P256() {
			want = "ES256"
		}
	case *rsa.PrivateKey:
		want = "RS256"
	case ed25519.PrivateKey:
		want = "EdDSA"
	}
	switch {
	case want == "":
		return "", fmt.Errorf("a %T key cannot sign here (want EC P-256, RSA or Ed25519)", key)
	case alg != "" && alg != want:
		return "", fmt.Errorf("alg %s does not fit the key (a %s key)", alg, want)
	}
	return want, nil
}

func newJWTSigner(key crypto.Signer, alg string, header map[string]any) (*jwtSigner, error) {
	alg, err := signingAlg(key, alg)
	if err != nil {
		return nil, err
	}
	header["alg"] = alg
	raw, err := json.Marshal(header)
	if err != nil {
		return nil, err
	}
	enc := base64.RawURLEncoding.AppendEncode(nil, raw)
	return &jwtSigner{key: key, alg: alg, header: append(enc, '.')}, nil
}

// sign appends the JWT of claims (JSON) to dst.
func (s *jwtSigner) sign(dst, claims []byte) ([]byte, error) {
	start := len(dst)
	dst = append(dst, s.header...)
	dst = base64.RawURLEncoding.AppendEncode(dst, claims)
	input := dst[start:]
	var sig []byte
	switch k := s.key.(type) {
	case *ecdsa.PrivateKey:
		sum := sha256.Sum256(input)
		r, ss, err := ecdsa.Sign(rand.Reader, k, sum[:])
		if err != nil {
			return nil, err
		}
		var raw [64]byte // JWS: r and s, 32 bytes each (RFC 7518 §3.4)
		r.FillBytes(raw[:32])
		ss.FillBytes(raw[32:])
		sig = raw[:]
	case *rsa.PrivateKey:
		sum := sha256.Sum256(input)
		var err error
		if sig, err = rsa.SignPKCS1v15(nil, k, crypto.SHA256, sum[:]); err != nil {
			return nil, err
		}
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, input)
	default:
		return nil, errors.New("unsupported key")
	}
	dst = append(dst, '.')
	return base64.RawURLEncoding.AppendEncode(dst, sig), nil
}

// appendJTI appends a quoted random jti: 128 bits, base64url.
func appendJTI(dst []byte) []byte {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	dst = append(dst, '"')
	dst = base64.RawURLEncoding.AppendEncode(dst, b[:])
	return append(dst, '"')
}

// appendJSONString appends s as a JSON string.
func appendJSONString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return append(dst, b...)
}

// assertionSigner makes client assertions for one client and audience
// (RFC 7523 §3): iss = sub = the client, aud, iat, exp, jti; or, for the
// federated runs, outside tokens of the bench issuer (newOutsideSigner).
type assertionSigner struct {
	s      *jwtSigner
	prefix []byte // {"iss":...,"sub":...,"aud":...,"iat":
	param  string // the form parameter that carries it: &client_assertion= or &assertion=
}

func newAssertionSigner(key crypto.Signer, alg, kid, clientID, audience string) (*assertionSigner, error) {
	return newClaimsSigner(key, alg, kid, clientID, clientID, audience, "&client_assertion=")
}

// newOutsideSigner makes the tokens of the bench's outside issuer
// (FederatedIssuer, a workload's subject, FederatedAudience), sent as a
// jwt-bearer grant's assertion (RFC 7523 §2.1).
func newOutsideSigner(key crypto.Signer, alg string) (*assertionSigner, error) {
	return newClaimsSigner(key, alg, "", FederatedIssuer, FederatedSubject, FederatedAudience, "&assertion=")
}

func newClaimsSigner(key crypto.Signer, alg, kid, iss, sub, audience, param string) (*assertionSigner, error) {
	header := map[string]any{"typ": "JWT"}
	if kid != "" {
		header["kid"] = kid
	}
	s, err := newJWTSigner(key, alg, header)
	if err != nil {
		return nil, err
	}
	p := append([]byte(`{"iss":`), appendJSONString(nil, iss)...)
	p = append(append(p, `,"sub":`...), appendJSONString(nil, sub)...)
	p = append(append(p, `,"aud":`...), appendJSONString(nil, audience)...)
	return &assertionSigner{s: s, prefix: append(p, `,"iat":`...), param: param}, nil
}

// sign appends a new assertion to dst; scratch is reused for the claims
// and returned.
func (a *assertionSigner) sign(dst, scratch []byte, now time.Time) (out, claims []byte, err error) {
	c := append(scratch[:0], a.prefix...)
	c = strconv.AppendInt(c, now.Unix(), 10)
	c = append(c, `,"exp":`...)
	c = strconv.AppendInt(c, now.Unix()+assertionLifetime, 10)
	c = append(c, `,"jti":`...)
	c = append(appendJTI(c), '}')
	out, err = a.s.sign(dst, c)
	return out, c, err
}

// proofSigner makes DPoP proofs for POSTs to one URL (RFC 9449 §4.2),
// with a key made for the run: typ dpop+jwt, the public jwk, jti, htm,
// htu, iat and the server's nonce when it gave one.
type proofSigner struct {
	s      *jwtSigner
	jkt    string
	prefix []byte // ,"htm":"POST","htu":...,"iat":
}

func newProofSigner(key crypto.Signer, url string) (*proofSigner, error) {
	pub := jose.JSONWebKey{Key: key.Public()}
	jwk, err := pub.MarshalJSON()
	if err != nil {
		return nil, err
	}
	s, err := newJWTSigner(key, "", map[string]any{"typ": "dpop+jwt", "jwk": json.RawMessage(jwk)})
	if err != nil {
		return nil, err
	}
	sum, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, err
	}
	p := append([]byte(`,"htm":"POST","htu":`), appendJSONString(nil, url)...)
	return &proofSigner{s: s, jkt: base64.RawURLEncoding.EncodeToString(sum), prefix: append(p, `,"iat":`...)}, nil
}

// sign appends a new proof to dst; nonce is the server's last nonce as a
// JSON string, or empty. scratch is reused for the claims and returned.
func (p *proofSigner) sign(dst, scratch, nonce []byte, now time.Time) (out, claims []byte, err error) {
	c := append(scratch[:0], `{"jti":`...)
	c = appendJTI(c)
	c = append(c, p.prefix...)
	c = strconv.AppendInt(c, now.Unix(), 10)
	if len(nonce) > 0 {
		c = append(append(c, `,"nonce":`...), nonce...)
	}
	c = append(c, '}')
	out, err = p.s.sign(dst, c)
	return out, c, err
}
