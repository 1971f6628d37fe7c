package admin

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/federation"
	"github.com/gatehouse/gatehouse/internal/store"
)

// maxTrustJWKS bounds a trust's static JWKS, as a client's is bounded: it
// lives in the trust's row and in every node's memory.
const maxTrustJWKS = maxClientJWKS

// checkTrust validates a trust's own fields (not its tenant or rules) and
// returns it in its stored form: fields trimmed, the JWKS compacted.
func checkTrust(t store.Trust) (store.Trust, error) {
	t.Issuer, t.JWKSURI, t.JWKS = strings.TrimSpace(t.Issuer), strings.TrimSpace(t.JWKSURI), strings.TrimSpace(t.JWKS)
	if t.Issuer == "" {
		return t, invalid("issuer is required: the exact \"iss\" of the tokens to trust, e.g. https://token.actions.githubusercontent.com")
	}
	if err := checkOutsideURL(t.Issuer, true, t.JWKS != ""); err != nil {
		return t, invalid("issuer %v", err)
	}
	if t.JWKS != "" && t.JWKSURI != "" {
		return t, invalid("jwks and jwks_uri: a trust takes its keys from one source (or, with neither, from the issuer's OIDC discovery), not both")
	}
	if t.JWKSURI != "" {
		if err := checkOutsideURL(t.JWKSURI, false, false); err != nil {
			return t, invalid("jwks_uri %v", err) // never echo the URL: it may hold a password
		}
	}
	if t.JWKS != "" {
		var err error
		if t.JWKS, err = checkJWKS(t.JWKS, maxTrustJWKS); err != nil {
			return t, err
		}
	}
	var err error
	if t.Audiences, err = checkTrustAudiences(t.Audiences); err != nil {
		return t, err
	}
	switch {
	case t.MaxAge < 0 || t.MaxAge > MaxTrustAge:
		return t, invalid("max_age must be between 0 (no limit beyond exp) and %s, not %s", shortDuration(MaxTrustAge), t.MaxAge)
	case t.MaxAge%time.Second != 0:
		return t, invalid("max_age must be a whole number of seconds, not %s", t.MaxAge)
	}
	return t, nil
}

// checkTrustAudiences checks the "aud" values a trust accepts: at most
// MaxTrustAudiences non-empty strings without repeats, each at most 512
// characters. They need not be URLs: Kubernetes and SPIFFE audiences are
// often plain names.
func checkTrustAudiences(auds []string) ([]string, error) {
	if len(auds) > MaxTrustAudiences {
		return nil, invalid("audiences: a trust accepts at most %d audiences", MaxTrustAudiences)
	}
	out := []string{}
	for _, a := range auds {
		a = strings.TrimSpace(a)
		switch {
		case a == "":
			return nil, invalid("audiences: an audience is empty")
		case len(a) > 512:
			return nil, invalid("audiences: an audience is longer than 512 characters")
		case slices.Contains(out, a):
			return nil, invalid("audiences: %q is listed twice", a)
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// checkOutsideURL checks an issuer (asIssuer) or a jwks_uri: an absolute
// https URL without user info or fragment (and, for an issuer, without a
// query, which OpenID Connect Discovery §3 rules out). Plain http is
// accepted only on a loopback host (localhost, 127.0.0.0/8, ::1), for an
// issuer run on the same machine in development and tests; keys fetched
// over http from anywhere else could be swapped on the way.
func checkOutsideURL(raw string, asIssuer, staticKeys bool) error {
	if len(raw) > 2048 {
		return errors.New("is longer than 2048 characters")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return errors.New("is not an absolute URL")
	case u.Scheme == "http" && (!staticKeys || !loopbackHost(u.Hostname())):
		// Nodes fetch keys over https only, and never from a loopback
		// address: a local test issuer is usable with static keys.
		return errors.New("must be an https URL (gatehouse fetches keys only over https; a plain-http issuer on a loopback host is accepted with static keys, --jwks-file)")
	case u.Scheme != "https" && u.Scheme != "http":
		return errors.New("must be an https URL")
	case u.User != nil:
		return errors.New("must not hold a user name or password")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return errors.New("must not have a fragment")
	case asIssuer && (u.RawQuery != "" || strings.Contains(raw, "?")):
		return errors.New("must not have a query")
	}
	return nil
}

func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkMatch compiles a rule's expression, so that a bad one is refused
// when saved rather than at a workload's first request.
func checkMatch(expr string) error {
	if _, err := federation.Compile(expr); err != nil {
		msg := strings.TrimPrefix(err.Error(), "match: ")
		return invalid("match: %s", msg)
	}
	return nil
}

// invalidExists is a clash (409) whose message names what clashed.
func invalidExists(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), store.ErrAlreadyExists)
}

// errNotFound is a missing thing (404) named in the message.
func errNotFound(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), store.ErrNotFound)
}

// CheckTrust is checkTrust for callers that check a trust before sending
// it (internal/declare checks a whole file first, so that a bad one
// changes nothing): its own fields, in their stored form.
func CheckTrust(t store.Trust) (store.Trust, error) { return checkTrust(t) }

// CheckMatch is checkMatch for the same callers: a rule's expression
// compiles.
func CheckMatch(expr string) error { return checkMatch(expr) }
