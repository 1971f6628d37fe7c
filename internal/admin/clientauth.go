package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/internal/jwks"
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
			return a, invalid("jwks_uri %v", err) // never echo the URL: it may hold a password
		}
	}
	if a.JWKS != "" {
		var err error
		if a.JWKS, err = checkJWKS(a.JWKS, maxClientJWKS); err != nil {
			return a, err
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

// validateJWKS checks a JWK Set a client registers (RFC 7517) by the one
// rule every JWKS gatehouse reads follows (jwks.Parse): no private or
// symmetric key material (a client must never hand over a private key,
// and one found here is no longer secret), and at least one public key
// that can verify a signature.
func validateJWKS(doc []byte) error {
	_, err := jwks.Parse(doc)
	if err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "jwks: "))
	}
	return nil
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
	setKeySource(&a.JWKS, &a.JWKSURI, p.JWKS, p.JWKSURI)
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

// CheckClientAuth applies checkAuth's rules for a caller that checks a
// client before sending it (gatehouse apply checks a whole file before it
// changes anything) and returns the stored form, so that what the caller
// compares is what the server keeps.
func CheckClientAuth(a store.ClientAuth) (store.ClientAuth, error) { return checkAuth(a) }

// checkJWKS is the rule for a JWK Set given inline, a client's or a
// trust's: at most max bytes, keys jwks.Parse accepts, stored compact.
func checkJWKS(doc string, max int) (string, error) {
	if len(doc) > max {
		return doc, invalid("jwks is larger than %d KiB", max>>10)
	}
	if err := validateJWKS([]byte(doc)); err != nil {
		return doc, invalid("jwks: %v", err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(doc)); err != nil {
		return doc, nil
	}
	return buf.String(), nil
}

// setKeySource applies a patch's key source to a client's or a trust's:
// keys are inline (jwks) or at a URL (jwks_uri), so setting one alone
// clears the other.
func setKeySource(jwks, uri *string, newJWKS, newURI *string) {
	switch {
	case newJWKS != nil && newURI == nil:
		*uri = ""
	case newURI != nil && newJWKS == nil:
		*jwks = ""
	}
	setIf(jwks, newJWKS)
	setIf(uri, newURI)
}
