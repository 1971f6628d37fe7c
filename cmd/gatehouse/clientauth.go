package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/jwks"
	"github.com/gatehouse/gatehouse/internal/store"
)

// subjectFlags are the tls_client_auth flags, one per subject kind.
var subjectFlags = []struct{ flag, kind string }{
	{"tls-subject", "dn"}, {"tls-san-dns", "dns"}, {"tls-san-uri", "uri"}, {"tls-san-email", "email"},
}

// keyFlags are the flags that register keys or a subject: none of them
// fits a client_secret client.
var keyFlags = []string{"jwks-file", "jwks-uri", "tls-subject", "tls-san-dns", "tls-san-uri", "tls-san-email"}

func addAuthFlags(fs *pflag.FlagSet) {
	fs.String("auth", "", "how the client authenticates: "+strings.Join(store.AuthMethods, ", ")+" (default client_secret)")
	fs.String("jwks-file", "", "file holding the client's public keys as a JWK Set, - for standard input (private_key_jwt, self_signed_tls_client_auth)")
	fs.String("jwks-uri", "", "https URL of the client's JWK Set (private_key_jwt)")
	fs.String("tls-subject", "", "tls_client_auth: the certificate's subject DN, e.g. 'CN=billing,O=Acme'")
	fs.String("tls-san-dns", "", "tls_client_auth: a DNS name the certificate carries")
	fs.String("tls-san-uri", "", "tls_client_auth: a URI the certificate carries, e.g. a SPIFFE ID")
	fs.String("tls-san-email", "", "tls_client_auth: an email address the certificate carries")
	fs.Bool("require-dpop", false, "refuse token requests without a DPoP proof (RFC 9449); --require-dpop=false lifts it")
}

// authFlags reads the auth flags into the admin API's fields. It refuses
// flags that contradict each other; whether the keys or subject fit the
// client is the server's to say. create is true for client create, where
// no --auth means client_secret.
func authFlags(cmd *cobra.Command, create bool) (admin.AuthInput, error) {
	fs := cmd.Flags()
	var in admin.AuthInput
	method, _ := fs.GetString("auth")
	if fs.Changed("auth") {
		in.AuthMethod = &method
	}
	var given []string
	for _, f := range keyFlags {
		if fs.Changed(f) {
			given = append(given, "--"+f)
		}
	}
	if len(given) > 0 && (method == store.AuthSecret || (create && method == "")) {
		return in, usageError(given[0] + " registers keys or a certificate name, which a client_secret client does not use: give --auth " +
			store.AuthPrivateKeyJWT + ", " + store.AuthTLS + " or " + store.AuthSelfSignedTLS)
	}
	var err error
	if in.JWKSURI, in.JWKS, err = keySourceFlags(cmd, "client's"); err != nil {
		return in, err
	}
	for _, s := range subjectFlags {
		if !fs.Changed(s.flag) {
			continue
		}
		if in.TLSSubject != nil {
			return in, usageError("give one of --tls-subject, --tls-san-dns, --tls-san-uri, --tls-san-email: a client is matched on one name")
		}
		kind := s.kind
		value, _ := fs.GetString(s.flag)
		in.TLSSubjectKind, in.TLSSubject = &kind, &value
	}
	if fs.Changed("require-dpop") {
		v, _ := fs.GetBool("require-dpop")
		in.RequireDPoP = &v
	}
	return in, nil
}

// keySourceFlags reads --jwks-uri and --jwks-file, the two places a
// client's or an issuer's (whose) keys may be named: one or neither.
func keySourceFlags(cmd *cobra.Command, whose string) (uri *string, doc json.RawMessage, err error) {
	fs := cmd.Flags()
	if fs.Changed("jwks-file") && fs.Changed("jwks-uri") {
		return nil, nil, usageError("give --jwks-file or --jwks-uri, not both: the " + whose + " keys are inline or at a URL")
	}
	if fs.Changed("jwks-uri") {
		v, _ := fs.GetString("jwks-uri")
		uri = &v
	}
	if fs.Changed("jwks-file") {
		path, _ := fs.GetString("jwks-file")
		if doc, err = readJWKSFile(cmd.InOrStdin(), path); err != nil {
			return nil, nil, err
		}
	}
	return uri, doc, nil
}

// readJWKSFile reads a JWK Set from path ("-": stdin) and checks that it
// is JSON, so that the request can carry it as an object.
func readJWKSFile(stdin io.Reader, path string) (json.RawMessage, error) {
	var doc []byte
	var err error
	if path == "-" {
		doc, err = io.ReadAll(io.LimitReader(stdin, 1<<20))
	} else {
		doc, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("--jwks-file: %w", err)
	}
	if bytes.HasPrefix(bytes.TrimSpace(doc), []byte("-----BEGIN")) {
		// PEM public keys, as `openssl pkey -pubout` writes them: turned
		// into a JWK Set here, each key named by its RFC 7638 thumbprint.
		set, err := jwks.FromFile(doc)
		if err != nil {
			return nil, usageError("--jwks-file " + path + ": " + strings.TrimPrefix(err.Error(), "jwks: "))
		}
		return json.RawMessage(set), nil
	}
	if !json.Valid(doc) {
		return nil, usageError("--jwks-file " + path + ": neither JSON nor PEM; want a JWK Set like {\"keys\":[...]} or PEM public keys")
	}
	return json.RawMessage(doc), nil
}

// mergeAuth adds the auth fields given to an update's patch.
func mergeAuth(patch map[string]any, in admin.AuthInput) error {
	raw, err := json.Marshal(in)
	if err != nil {
		return err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return err
	}
	for k, v := range fields {
		patch[k] = v
	}
	return nil
}

// subjectNames says what each subject kind matches, for people.
var subjectNames = map[string]string{"dn": "subject DN", "dns": "SAN DNS", "uri": "SAN URI", "email": "SAN email"}

// authPairs are the lines of printClient that say how c authenticates.
func authPairs(c admin.ClientView) []string {
	pairs := []string{"auth_method", c.AuthMethod}
	switch c.AuthMethod {
	case store.AuthPrivateKeyJWT:
		pairs = append(pairs, "authenticates", "with a client_assertion JWT signed by one of its keys (RFC 7523); it has no secret")
	case store.AuthTLS:
		pairs = append(pairs, "authenticates", "with a certificate from the configured client CA that carries its TLS subject (RFC 8705); it has no secret")
	case store.AuthSelfSignedTLS:
		pairs = append(pairs, "authenticates", "with a self-signed certificate whose public key is among its keys (RFC 8705); it has no secret")
	default:
		if len(c.Secrets) == 0 && c.ClientSecret == "" {
			pairs = append(pairs, "authenticates", "with a secret, but holds none: run gatehouse client rotate-secret "+c.ClientID)
		}
	}
	if len(c.JWKS) > 0 {
		pairs = append(pairs, "keys", "kid "+strings.Join(admin.KeyIDs(string(c.JWKS)), ", "))
	}
	if c.JWKSURI != "" {
		pairs = append(pairs, "jwks_uri", c.JWKSURI)
	}
	if c.TLSSubject != "" {
		pairs = append(pairs, "tls_subject", subjectNames[c.TLSSubjectKind]+" "+c.TLSSubject)
	}
	return append(pairs, "require_dpop", fmt.Sprint(c.RequireDPoP))
}
