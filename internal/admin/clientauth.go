package admin

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/mtls"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The rules for how a client proves itself (DESIGN §8): which registered
// fields each auth_method takes, and what a JWKS, a jwks_uri and a TLS
// subject must be. Messages start with the wire field they are about.

// maxClientJWKS bounds a registered JWKS: it lives in the client's row
// and in every node's catalog.
const maxClientJWKS = 64 << 10

// methodFields says which registered fields each method takes.
var methodFields = map[string]struct{ jwks, jwksURI, subject bool }{
	store.AuthSecret:        {},
	store.AuthPrivateKeyJWT: {jwks: true, jwksURI: true},
	store.AuthTLS:           {subject: true},
	store.AuthSelfSignedTLS: {jwks: true},
}

// checkAuth validates how a client authenticates and returns it in its
// stored form: Method "" for client_secret, the JWKS compacted, the
// jwks_uri and subject trimmed (a DNS name lower-cased).
func checkAuth(a store.ClientAuth) (store.ClientAuth, error) {
	method := a.MethodOrDefault()
	uses, ok := methodFields[method]
	if !ok {
		return a, invalid("auth_method %q is not one of %s", a.Method, strings.Join(store.AuthMethods, ", "))
	}
	if method == store.AuthSecret {
		a.Method = ""
	}
	a.JWKS, a.JWKSURI = strings.TrimSpace(a.JWKS), strings.TrimSpace(a.JWKSURI)
	a.TLSSubjectKind, a.TLSSubject = strings.TrimSpace(a.TLSSubjectKind), strings.TrimSpace(a.TLSSubject)
	switch {
	case a.JWKSURI != "" && !uses.jwksURI:
		return a, invalid("jwks_uri is only for private_key_jwt clients, not %s: remove it", method)
	case a.JWKS != "" && !uses.jwks:
		return a, invalid("jwks is only for private_key_jwt and self_signed_tls_client_auth clients, not %s: remove it", method)
	case a.TLSSubjectKind != "" && !uses.subject:
		return a, invalid("tls_subject_kind is only for tls_client_auth clients, not %s: remove it", method)
	case a.TLSSubject != "" && !uses.subject:
		return a, invalid("tls_subject is only for tls_client_auth clients, not %s: remove it", method)
	}
	switch method {
	case store.AuthPrivateKeyJWT:
		if a.JWKS != "" && a.JWKSURI != "" {
			return a, invalid("jwks and jwks_uri: a private_key_jwt client registers its keys inline or at a URL, not both")
		}
		if a.JWKS == "" && a.JWKSURI == "" {
			return a, invalid("jwks or jwks_uri is required for a private_key_jwt client: its public keys, inline or at an https URL")
		}
	case store.AuthSelfSignedTLS:
		if a.JWKS == "" {
			return a, invalid("jwks is required for a self_signed_tls_client_auth client: a JWK Set holding its certificate's public key")
		}
	case store.AuthTLS:
		subject, err := checkSubject(a.TLSSubjectKind, a.TLSSubject)
		if err != nil {
			return a, err
		}
		a.TLSSubject = subject
	}
	if a.JWKSURI != "" {
		if err := validateJWKSURI(a.JWKSURI); err != nil {
			return a, invalid("jwks_uri %q %v", a.JWKSURI, err)
		}
	}
	if a.JWKS != "" {
		if len(a.JWKS) > maxClientJWKS {
			return a, invalid("jwks is larger than %d KiB", maxClientJWKS>>10)
		}
		if err := validateJWKS([]byte(a.JWKS)); err != nil {
			return a, invalid("jwks: %v", err)
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, []byte(a.JWKS)); err == nil {
			a.JWKS = buf.String()
		}
	}
	return a, nil
}

// checkSubject checks a tls_client_auth subject and returns its stored form.
func checkSubject(kind, value string) (string, error) {
	switch {
	case value == "":
		return "", invalid("tls_subject is required for a tls_client_auth client: the one name its certificate must carry")
	case kind == "":
		return "", invalid("tls_subject_kind is required for a tls_client_auth client: one of %s", strings.Join(store.TLSSubjectKinds, ", "))
	case !slices.Contains(store.TLSSubjectKinds, kind):
		return "", invalid("tls_subject_kind %q is not one of %s", kind, strings.Join(store.TLSSubjectKinds, ", "))
	}
	s, err := mtls.ParseSubject(kind, value)
	if err != nil {
		if inner := errors.Unwrap(err); inner != nil {
			err = inner
		}
		return "", invalid("tls_subject %q is not a valid %s: %v", value, subjectWords[kind], err)
	}
	return s.Value, nil
}

// subjectWords names each subject kind in messages.
var subjectWords = map[string]string{
	mtls.KindDN: "subject DN (RFC 4514, e.g. CN=billing,O=Acme)", mtls.KindDNS: "DNS name (SAN)",
	mtls.KindURI: "URI (SAN), e.g. a SPIFFE ID", mtls.KindEmail: "email address (SAN)",
}

// validateJWKSURI checks where private_key_jwt keys are fetched: an
// absolute https URL without user info or fragment.
func validateJWKSURI(raw string) error {
	if len(raw) > 2048 {
		return errors.New("is longer than 2048 characters")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return errors.New("is not an absolute URL")
	case u.Scheme != "https":
		return errors.New("must be an https URL: keys fetched over plain HTTP could be swapped on the way")
	case u.User != nil:
		return errors.New("must not hold a user name or password")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return errors.New("must not have a fragment")
	}
	return nil
}

// privateMembers are the JWK members that hold secret key material: the
// private parts of RSA, EC and OKP keys, ML-DSA's seed, and a symmetric
// key's secret.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"}

// validateJWKS checks a JWK Set a client registers (RFC 7517): it must
// hold no private or symmetric key material (a client must never hand
// over a private key, and one found here is no longer secret), and at
// least one public key that can verify a signature: RSA of 2048 bits or
// more, EC P-256/384/521 or Ed25519, "use" absent or "sig", and an "alg",
// when given, that fits the key. Other keys (an unknown kty, an
// encryption key) are allowed and unused. internal/jwks.Parse holds the
// same rules for every JWKS gatehouse reads.
func validateJWKS(doc []byte) error {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if d := bytes.TrimSpace(doc); len(d) == 0 || d[0] != '{' {
		return errors.New(`want a JWK Set: a JSON object with a "keys" array`)
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		return fmt.Errorf("not a JWK Set: %v", err)
	}
	if set.Keys == nil {
		return errors.New(`not a JWK Set: no "keys" array`)
	}
	usable, skipped := 0, ""
	for i, raw := range set.Keys {
		var members map[string]json.RawMessage
		if err := json.Unmarshal(raw, &members); err != nil {
			return fmt.Errorf("key %d is not a JSON object", i)
		}
		var kid, kty string
		_ = json.Unmarshal(members["kid"], &kid)
		_ = json.Unmarshal(members["kty"], &kty)
		name := fmt.Sprintf("key %d", i)
		if kid != "" {
			name = fmt.Sprintf("key %q", kid)
		}
		if strings.EqualFold(kty, "oct") {
			return fmt.Errorf("%s is a symmetric key (kty oct): a client proves itself with an asymmetric key pair", name)
		}
		for _, m := range slices.Sorted(maps.Keys(members)) {
			if slices.ContainsFunc(privateMembers, func(p string) bool { return strings.EqualFold(m, p) }) {
				return fmt.Errorf("%s holds private key material (%q): register public keys only, and replace that key, which is no longer secret", name, m)
			}
		}
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(raw); err != nil {
			if skipped == "" {
				skipped = fmt.Sprintf("%s: %v", name, strings.TrimPrefix(err.Error(), "go-jose/go-jose: "))
			}
			continue
		}
		if !jwk.IsPublic() {
			return fmt.Errorf("%s holds private key material: register public keys only", name)
		}
		if why := unusable(&jwk); why != "" {
			if skipped == "" {
				skipped = name + " " + why
			}
			continue
		}
		usable++
	}
	if usable == 0 {
		msg := "holds no usable signing key: want an RSA (2048 bits or more), EC or Ed25519 public key"
		if skipped != "" {
			msg += " (" + skipped + ")"
		}
		return errors.New(msg)
	}
	return nil
}

// unusable says why a public key cannot verify signatures, or "".
func unusable(jwk *jose.JSONWebKey) string {
	if jwk.Use != "" && jwk.Use != "sig" {
		return fmt.Sprintf("has use %q, not sig", jwk.Use)
	}
	if !jwk.Valid() {
		return "is not a valid key"
	}
	alg := jwk.Algorithm
	if alg == "" {
		alg = defaultAlg(jwk.Key)
	}
	switch k := jwk.Key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return fmt.Sprintf("is an RSA key of %d bits, under 2048", k.N.BitLen())
		}
		if !slices.Contains(rsaAlgs, jose.SignatureAlgorithm(alg)) {
			return fmt.Sprintf("has alg %q, which does not fit an RSA key", alg)
		}
	case *ecdsa.PublicKey:
		if alg == "" || alg != defaultAlg(k) {
			return fmt.Sprintf("has alg %q, which does not fit its curve", alg)
		}
	case ed25519.PublicKey:
		if alg != string(jose.EdDSA) {
			return fmt.Sprintf("has alg %q, which does not fit an Ed25519 key", alg)
		}
	default:
		return fmt.Sprintf("is a %T, not an RSA, EC or Ed25519 key", jwk.Key)
	}
	return ""
}

// rsaAlgs are the signature algorithms an RSA key may verify.
var rsaAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512}

// defaultAlg is the algorithm a key without "alg" signs with.
func defaultAlg(key any) string {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return string(jose.RS256)
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return string(jose.ES256)
		case elliptic.P384():
			return string(jose.ES384)
		case elliptic.P521():
			return string(jose.ES512)
		}
	case ed25519.PublicKey:
		return string(jose.EdDSA)
	}
	return ""
}

// KeyIDs lists the "kid" of each key in a JWK Set, for display; a key
// without one is shown as "(no kid)". It applies no rules.
func KeyIDs(jwks string) []string {
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if json.Unmarshal([]byte(jwks), &set) != nil {
		return nil
	}
	out := make([]string, len(set.Keys))
	for i, k := range set.Keys {
		out[i] = k.KID
		if k.KID == "" {
			out[i] = "(no kid)"
		}
	}
	return out
}

// patchAuth applies p's auth fields to a. Two rules keep a patch short:
// changing auth_method drops what the old method registered and the new
// one does not use (a client_secret client keeps only require_dpop); and
// jwks and jwks_uri are one key source, so giving one removes the other.
func patchAuth(a store.ClientAuth, p ClientPatch) store.ClientAuth {
	if p.AuthMethod != nil && (store.ClientAuth{Method: *p.AuthMethod}).MethodOrDefault() != a.MethodOrDefault() {
		a.Method = *p.AuthMethod
		uses := methodFields[a.MethodOrDefault()] // an unknown method: checkAuth refuses it
		if !uses.jwks {
			a.JWKS = ""
		}
		if !uses.jwksURI {
			a.JWKSURI = ""
		}
		if !uses.subject {
			a.TLSSubjectKind, a.TLSSubject = "", ""
		}
	}
	switch {
	case p.JWKS != nil && p.JWKSURI == nil:
		a.JWKSURI = ""
	case p.JWKSURI != nil && p.JWKS == nil:
		a.JWKS = ""
	}
	setIf(&a.JWKS, p.JWKS)
	setIf(&a.JWKSURI, p.JWKSURI)
	setIf(&a.TLSSubjectKind, p.TLSSubjectKind)
	setIf(&a.TLSSubject, p.TLSSubject)
	setIf(&a.RequireDPoP, p.RequireDPoP)
	return a
}

// changesAuth reports whether p changes how the client authenticates
// (require_dpop alone does not: it needs no check, so it can always be set).
func (p ClientPatch) changesAuth() bool {
	return p.AuthMethod != nil || p.JWKS != nil || p.JWKSURI != nil || p.TLSSubjectKind != nil || p.TLSSubject != nil
}
