package token

import (
	"context"
	"crypto"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse/internal/binding"
	"github.com/gatehouse/gatehouse/internal/mtls"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// An authMethod is one way a client proves who it is, at the token,
// introspection and revocation endpoints alike. Authenticate picks the
// method whose credential the request carries; a new method is one entry
// in authMethods.
type authMethod struct {
	// names are its RFC 8414 token_endpoint_auth_methods_supported values.
	names []string
	// presented reports whether req carries this method's credential.
	presented func(req *oauth.TokenRequest) bool
	// clientID is the client the credential names, or "".
	clientID func(req *oauth.TokenRequest) string
	// check verifies the credential for client, which is nil when the
	// request names no known client: the check must then fail after the
	// same work as a wrong credential. It returns why it failed, for the
	// log; the caller answers invalid_client whatever the reason.
	check func(ctx context.Context, i *Issuer, req *oauth.TokenRequest, client *store.Client) (store.Confirmation, error)
}

// authMethods are tried in order; the last one takes any request, so that
// a request with no credential fails like a wrong secret.
var authMethods = []authMethod{
	{
		// RFC 7523 §2.2: a JWT the client signed with its own key.
		names: []string{store.AuthPrivateKeyJWT},
		presented: func(req *oauth.TokenRequest) bool {
			return req.ClientAssertionType != "" || req.ClientAssertion != ""
		},
		clientID: assertionClientID,
		check:    checkAssertion,
	},
	{
		// RFC 8705 §2: a certificate, with no secret. Which of the two
		// methods applies is the client's registration.
		names:     []string{store.AuthTLS, store.AuthSelfSignedTLS},
		presented: func(req *oauth.TokenRequest) bool { return req.ClientCert != nil && req.ClientSecret == "" },
		clientID:  func(req *oauth.TokenRequest) string { return req.ClientID },
		check:     checkCertificate,
	},
	{
		// RFC 6749 §2.3.1: a secret in the body or in HTTP Basic (the
		// parser has already decoded either into ClientID/ClientSecret).
		names:     []string{"client_secret_basic", "client_secret_post"},
		presented: func(*oauth.TokenRequest) bool { return true },
		clientID:  func(req *oauth.TokenRequest) string { return req.ClientID },
		check:     checkSecret,
	},
}

// name is the method's name for the log: a secret says where it came
// from (HTTP Basic or the body), so a cause never misleads about it.
func (m authMethod) name(req *oauth.TokenRequest) string {
	if m.names[0] == "client_secret_basic" && !req.Basic {
		return "client_secret_post"
	}
	return m.names[0]
}

// errWrongMethod: the client is registered with another method.
var errWrongMethod = errors.New("the client is registered with another authentication method")

func checkSecret(ctx context.Context, i *Issuer, req *oauth.TokenRequest, client *store.Client) (store.Confirmation, error) {
	var secrets []store.Secret // nil: an unknown client, checked against stand-ins
	if client != nil {
		secrets = client.Secrets
		if secrets == nil || !client.Auth.UsesSecret() {
			secrets = []store.Secret{}
		}
	}
	if !i.secrets.Check(ctx, secrets, req.ClientSecret, i.now()) {
		if client != nil && !client.Auth.UsesSecret() {
			return store.Confirmation{}, errWrongMethod
		}
		return store.Confirmation{}, errors.New("wrong or expired secret")
	}
	return store.Confirmation{}, nil
}

// checkCertificate authenticates by the presented certificate (RFC 8705
// §2.1 and §2.2); the token it gets is bound to that certificate (§3).
func checkCertificate(_ context.Context, i *Issuer, req *oauth.TokenRequest, client *store.Client) (store.Confirmation, error) {
	if client == nil {
		return store.Confirmation{}, errors.New("unknown client")
	}
	cert := req.ClientCert
	switch client.Auth.Method {
	case store.AuthTLS:
		if err := i.cfg.ClientCA.Verify(cert, req.CertChain, i.now()); err != nil {
			return store.Confirmation{}, fmt.Errorf("certificate: %w", err)
		}
		subject, err := mtls.ParseSubject(client.Auth.TLSSubjectKind, client.Auth.TLSSubject)
		if err != nil {
			return store.Confirmation{}, fmt.Errorf("the client's registered subject: %w", err)
		}
		if !subject.Matches(cert) {
			return store.Confirmation{}, errors.New("certificate does not match the client's registered " + subject.Kind)
		}
	case store.AuthSelfSignedTLS:
		set, err := i.clientKeys.static(client)
		if err != nil {
			return store.Confirmation{}, err
		}
		var keys []crypto.PublicKey
		for _, k := range set.Keys() {
			keys = append(keys, k.Public)
		}
		if !mtls.MatchesKey(cert, keys) {
			return store.Confirmation{}, errors.New("certificate key is not among the client's keys")
		}
		if now := i.now(); now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
			return store.Confirmation{}, errors.New("certificate is outside its validity period")
		}
	default:
		return store.Confirmation{}, errWrongMethod
	}
	return store.Confirmation{X5TS256: binding.Thumbprint(cert)}, nil
}

// AuthMethods lists the client authentication methods the token endpoint
// accepts, for the metadata document.
func AuthMethods() []string {
	var out []string
	for _, m := range authMethods {
		out = append(out, m.names...)
	}
	return out
}

// authenticateThrottled refuses callers that keep failing before their
// credential is even checked, and counts their failures. Like
// authenticate, it fills req.ClientID when only the credential named the
// client.
func (i *Issuer) authenticateThrottled(ctx context.Context, req *oauth.TokenRequest, addr string) (*store.Client, store.Confirmation, error) {
	// The client a credential names counts, not only a client_id sent
	// beside it: failures are counted against the former. The method and
	// the client it names are found once, here, for both steps.
	method := i.method(req)
	named := method.clientID(req)
	if wait := i.throttle.Blocked(named, addr); wait > 0 {
		return nil, store.Confirmation{}, oauth.ErrTooManyRequests("Too many failed authentications; slow down.", wait)
	}
	client, cnf, err := i.authenticate(ctx, req, method, named)
	if err != nil {
		i.throttle.Failed(req.ClientID, addr)
	}
	return client, cnf, err
}

// method is the authentication method whose credential req carries.
func (i *Issuer) method(req *oauth.TokenRequest) authMethod {
	for _, m := range i.methods {
		if m.presented(req) {
			return m
		}
	}
	return i.methods[len(i.methods)-1]
}

// Authenticate checks the client's credentials. Unknown, disabled and
// deleted clients and wrong or expired credentials all give the same
// invalid_client, after the same work.
func (i *Issuer) Authenticate(ctx context.Context, req oauth.TokenRequest) (*store.Client, error) {
	method := i.method(&req)
	c, _, err := i.authenticate(ctx, &req, method, method.clientID(&req))
	return c, err
}

// authenticate checks the credential of method, the request's, for id,
// the client it names (method.clientID). It fills req.ClientID when only
// the credential named the client. cnf is the binding the credential
// gives the token.
func (i *Issuer) authenticate(ctx context.Context, req *oauth.TokenRequest, method authMethod, id string) (*store.Client, store.Confirmation, error) {
	if method.names[0] == store.AuthPrivateKeyJWT && (req.ClientSecret != "" || req.Basic) {
		return nil, store.Confirmation{}, oauth.ErrInvalidRequest("Use one client authentication method: a client assertion or a secret, not both.")
	}
	if req.ClientID != "" && id != req.ClientID {
		return nil, store.Confirmation{}, oauth.ErrInvalidClient(req.Basic).WithCause(errors.New("client_id does not match the credential"))
	}
	req.ClientID = id
	fail := func(cause error) (*store.Client, store.Confirmation, error) {
		return nil, store.Confirmation{}, oauth.ErrInvalidClient(req.Basic).WithCause(cause)
	}
	if id == "" {
		return fail(errors.New("no client id"))
	}
	client, known := i.catalog.Client(id)
	if !known {
		client = nil
	}
	cnf, err := method.check(ctx, i, req, client)
	switch {
	case err != nil:
		return fail(fmt.Errorf("%s: %w", method.name(req), err))
	case client == nil:
		return fail(errors.New("unknown client"))
	case client.Disabled:
		return fail(errors.New("client is disabled"))
	}
	return client, cnf, nil
}
