package binding

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/bearer"
	"github.com/gatehouse/gatehouse/internal/dpop"
	"github.com/gatehouse/gatehouse/internal/replay"
)

// Confirmation is what a token's cnf claim (RFC 7800) binds it to; empty
// fields bind nothing. Its JSON form is the cnf claim's, as a JWT and an
// introspection answer carry it; read one with FromClaim.
type Confirmation struct {
	// JKT is cnf.jkt: the RFC 7638 thumbprint of the DPoP key (RFC 9449 §6).
	JKT string `json:"jkt,omitempty"`
	// X5TS256 is cnf.x5t#S256: the base64url SHA-256 of the client
	// certificate's DER form (RFC 8705 §3.1).
	X5TS256 string `json:"x5t#S256,omitempty"`
}

// ErrUnenforceable is a cnf claim that holds neither a jkt nor an
// x5t#S256: a binding by a method a resource cannot enforce.
var ErrUnenforceable = errors.New("cnf holds neither jkt nor x5t#S256")

// FromClaim reads a verified token's cnf claim as decoded from JSON: nil
// (no cnf) binds nothing; a cnf this package cannot enforce is
// ErrUnenforceable, since such a binding must not pass as none.
func FromClaim(cnf *Confirmation) (Confirmation, error) {
	switch {
	case cnf == nil:
		return Confirmation{}, nil
	case cnf.JKT == "" && cnf.X5TS256 == "":
		return Confirmation{}, ErrUnenforceable
	}
	return *cnf, nil
}

// Reasons a request is refused, in Refusal.Err. Their texts are safe to
// send as error descriptions.
var (
	ErrDPoPBound    = errors.New("the token is DPoP-bound: send it with the DPoP scheme and a proof")
	ErrDPoPRequired = errors.New("a DPoP-bound token is required")
	ErrNotDPoPBound = errors.New("the token is not DPoP-bound")
	ErrProofKey     = errors.New("the DPoP proof is not signed by the key the token is bound to")
	ErrCertificate  = errors.New("the token is bound to a client certificate the request did not present")
)

// Error codes of a Refusal (RFC 6750 §3.1, RFC 9449 §7.1).
const (
	CodeInvalidToken     = "invalid_token"
	CodeInvalidDPoPProof = "invalid_dpop_proof"
)

// Refusal is why a request may not use its token: the error code and a
// description to answer 401 with, and the cause for logs.
type Refusal struct {
	Code        string
	Description string
	Err         error
}

func (r *Refusal) Error() string { return "binding: " + r.Err.Error() }
func (r *Refusal) Unwrap() error { return r.Err }

// Config is how a resource finds what a request proves.
type Config struct {
	// PublicURL is the resource's external base URL as clients address
	// it, such as https://api.example.io, or https://example.io/api behind
	// a proxy that strips /api: a DPoP proof's htu must be PublicURL
	// followed by the request's path. Empty means the URL the request
	// arrived at (https when it came over TLS, and its Host), which is
	// wrong behind a proxy that changes the scheme, host or path.
	PublicURL string
	// RequestURL, when set, returns the URL a client addressed for r and
	// replaces PublicURL's rule.
	RequestURL func(r *http.Request) string
	// ClientCertificate returns the client certificate of the connection
	// r came over, or nil when there is none. Nil means the first peer
	// certificate of r.TLS; behind a TLS-terminating proxy, a function
	// that reads the proxy's header, from that proxy only.
	ClientCertificate func(r *http.Request) (*x509.Certificate, error)
	// RequireDPoP refuses every token that is not DPoP-bound; otherwise
	// unbound tokens pass as Bearer tokens.
	RequireDPoP bool
	// Replay makes proofs single-use, remembering each proof's jti under
	// its key's thumbprint until the proof expires; nil means a memory-only
	// cache of its own. Share one among the Checkers of one process.
	Replay *replay.Cache
	// Window and Leeway bound a proof's iat (see dpop.Check).
	Window, Leeway time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Checker checks requests against their tokens' bindings. It is safe for
// concurrent use.
type Checker struct {
	cfg  Config
	algs string
}

// New returns a Checker for cfg; PublicURL, when set, must be an absolute
// http(s) URL without query or fragment.
func New(cfg Config) (*Checker, error) {
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
			u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("public URL %q must be an absolute http(s) URL without query or fragment", cfg.PublicURL)
		}
		cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Replay == nil {
		cfg.Replay = replay.New(nil, 0, cfg.Now)
	}
	return &Checker{cfg: cfg, algs: strings.Join(dpop.Algorithms(), " ")}, nil
}

// RequireDPoP reports whether only DPoP-bound tokens pass.
func (c *Checker) RequireDPoP() bool { return c.cfg.RequireDPoP }

// Check admits a request that carried tok, a valid token whose cnf is
// cnf, or says why not. A DPoP token needs a proof of the token's key for
// this request, used once; a token bound to a certificate needs that
// certificate on the connection; a DPoP-bound token sent as Bearer is
// refused (RFC 9449 §7.2).
func (c *Checker) Check(r *http.Request, tok bearer.Token, cnf Confirmation) *Refusal {
	var proof *dpop.Proof
	switch {
	case tok.Scheme == bearer.SchemeDPoP && cnf.JKT == "":
		return refuse(CodeInvalidToken, ErrNotDPoPBound, nil)
	case tok.Scheme == bearer.SchemeDPoP:
		var ref *Refusal
		if proof, ref = c.checkProof(r, tok.Value, cnf.JKT); ref != nil {
			return ref
		}
	case cnf.JKT != "":
		return refuse(CodeInvalidToken, ErrDPoPBound, nil)
	case c.cfg.RequireDPoP:
		return refuse(CodeInvalidToken, ErrDPoPRequired, nil)
	}
	if cnf.X5TS256 != "" {
		if err := c.checkCertificate(r, cnf.X5TS256); err != nil {
			return refuse(CodeInvalidToken, ErrCertificate, err)
		}
	}
	if proof != nil {
		// Last, so that a request refused for another reason does not
		// spend the proof.
		id := replay.ID{Key: "dpop:" + proof.JKT + ":" + proof.JTI, ExpiresAt: proof.ExpiresAt}
		if err := c.cfg.Replay.Use(r.Context(), id); err != nil {
			return refuse(CodeInvalidDPoPProof, dpop.ErrReplayed, err)
		}
	}
	return nil
}

func refuse(code string, reason, cause error) *Refusal {
	err := reason
	if cause != nil {
		err = fmt.Errorf("%w: %w", reason, cause)
	}
	return &Refusal{Code: code, Description: reason.Error(), Err: err}
}

// checkProof verifies the request's DPoP proof for token and the token's
// key jkt.
func (c *Checker) checkProof(r *http.Request, token, jkt string) (*dpop.Proof, *Refusal) {
	raw, err := dpop.FromHeader(r.Header)
	if err == nil {
		var p *dpop.Proof
		p, err = dpop.Verify(raw, dpop.Check{
			Method: r.Method, URL: c.RequestURL(r), AccessToken: token,
			Now: c.cfg.Now(), Window: c.cfg.Window, Leeway: c.cfg.Leeway,
		})
		if err == nil {
			if subtle.ConstantTimeCompare([]byte(p.JKT), []byte(jkt)) != 1 {
				return nil, refuse(CodeInvalidDPoPProof, ErrProofKey, nil)
			}
			return p, nil
		}
	}
	return nil, &Refusal{Code: CodeInvalidDPoPProof, Description: dpop.Description(err), Err: err}
}

// RequestURL is the URL a client addressed for r, without query: the
// htu its DPoP proof must name.
func (c *Checker) RequestURL(r *http.Request) string {
	switch {
	case c.cfg.RequestURL != nil:
		return c.cfg.RequestURL(r)
	case c.cfg.PublicURL != "":
		return c.cfg.PublicURL + r.URL.EscapedPath()
	case r.TLS != nil:
		return "https://" + r.Host + r.URL.EscapedPath()
	}
	return "http://" + r.Host + r.URL.EscapedPath()
}

// checkCertificate compares the connection's client certificate with the
// token's x5t#S256.
func (c *Checker) checkCertificate(r *http.Request, x5t string) error {
	var cert *x509.Certificate
	var err error
	switch {
	case c.cfg.ClientCertificate != nil:
		cert, err = c.cfg.ClientCertificate(r)
	case r.TLS != nil && len(r.TLS.PeerCertificates) > 0:
		cert = r.TLS.PeerCertificates[0]
	}
	switch {
	case err != nil:
		return err
	case cert == nil:
		return errors.New("no client certificate")
	case subtle.ConstantTimeCompare([]byte(Thumbprint(cert)), []byte(x5t)) != 1:
		return errors.New("another client certificate")
	}
	return nil
}

// Thumbprint is a certificate's x5t#S256: the base64url SHA-256 of its
// DER form (RFC 8705 §3.1).
func Thumbprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// WriteChallenges refuses a request with the challenges of a resource
// that accepts DPoP (RFC 9449 §7.1): ch, which carries the error, in the
// scheme the request used (ch.Scheme; DPoP when that scheme is not
// accepted, Bearer when none was used), then a bare challenge of the other
// accepted scheme with ch's realm and resource metadata. DPoP challenges
// name the proof algorithms.
func (c *Checker) WriteChallenges(w http.ResponseWriter, status int, ch bearer.Challenge) {
	switch {
	case c.cfg.RequireDPoP:
		ch.Scheme = bearer.SchemeDPoP
	case ch.Scheme != bearer.SchemeDPoP:
		ch.Scheme = bearer.SchemeBearer
	}
	other := bearer.Challenge{Scheme: bearer.SchemeDPoP, Realm: ch.Realm, ResourceMetadata: ch.ResourceMetadata}
	if ch.Scheme == bearer.SchemeDPoP {
		ch.Algs = c.algs
		other.Scheme = bearer.SchemeBearer
	} else {
		other.Algs = c.algs
	}
	if c.cfg.RequireDPoP {
		bearer.WriteChallenges(w, status, ch)
		return
	}
	bearer.WriteChallenges(w, status, ch, other)
}
