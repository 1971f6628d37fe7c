package token

import (
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// This file is the audience and scope policy: which API a request names,
// whether the client holds a grant on it, which scopes and what lifetime
// the token gets. Every grant type passes through it.

// authorizeService applies the per-service endpoint's policy: the token is
// for that service's API and bound to the client's environment.
func (i *Issuer) authorizeService(client *store.Client, api *store.API, req oauth.TokenRequest) (*Grant, error) {
	// Each of audience and resource, when given, must name this API: a
	// request naming another is refused, not answered for this one.
	if (req.Audience != "" && req.Audience != api.Audience) || (req.Resource != "" && req.Resource != api.Audience) {
		return nil, oauth.ErrInvalidTarget("This endpoint issues tokens for %q only.", api.Audience)
	}
	if client.Environment == "" {
		return nil, oauth.ErrAccessDeniedf("Client is not authorized to access %q: only a client of an environment gets tokens for a service.", api.Service)
	}
	env, ok := i.catalog.Environment(client.Tenant, client.Environment)
	if !ok {
		return nil, oauth.ErrInvalidClient(req.Basic)
	}
	g, err := i.grant(client, api, api.Audience, req)
	if err != nil {
		return nil, err
	}
	g.Service, g.APIKey = api.Service, env.APIKey
	return g, nil
}

// Authorize applies the audience and scope policy to an authenticated client.
func (i *Issuer) Authorize(client *store.Client, req oauth.TokenRequest) (*Grant, error) {
	audience, err := i.audience(req)
	if err != nil {
		return nil, err
	}
	api, ok := i.catalog.Resolve(audience, client.Tenant)
	if !ok {
		return nil, oauth.ErrAccessDenied(audience)
	}
	return i.grant(client, api, audience, req)
}

// grant checks the client's grant on api and picks scopes and lifetime.
func (i *Issuer) grant(client *store.Client, api *store.API, audience string, req oauth.TokenRequest) (*Grant, error) {
	granted, ok := client.Grants[api.Audience]
	if !ok {
		return nil, oauth.ErrAccessDenied(audience)
	}
	allowed := grantedScopes(granted, api)
	scopes := allowed
	if req.ScopeGiven && strings.TrimSpace(req.Scope) != "" {
		scopes = nil
		for _, s := range strings.Fields(req.Scope) {
			if !slices.Contains(allowed, s) {
				return nil, oauth.ErrInvalidScope("Scope %q is not granted to this client for %q.", truncate(s), audience)
			}
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	}
	ttl := api.TokenTTL
	if client.TokenTTL > 0 && client.TokenTTL < ttl {
		ttl = client.TokenTTL
	}
	return &Grant{Client: client, API: api, Audience: audience, Scopes: scopes, TTL: ttl}, nil
}

// grantedScopes are the scopes of granted that api still has: a grant may
// outlive a scope the API has since dropped. Usually it has them all, and
// the grant's own slice serves, capped so that an append copies it.
func grantedScopes(granted []string, api *store.API) []string {
	for n, s := range granted {
		if api.HasScope(s) {
			continue
		}
		allowed := append(make([]string, 0, len(granted)-1), granted[:n]...)
		for _, s := range granted[n+1:] {
			if api.HasScope(s) {
				allowed = append(allowed, s)
			}
		}
		return allowed
	}
	if len(granted) == 0 {
		return []string{} // not nil: an opaque token stores its scopes as []
	}
	return granted[:len(granted):len(granted)]
}

// audience picks the requested audience: audience, or RFC 8707 resource,
// or the configured default.
func (i *Issuer) audience(req oauth.TokenRequest) (string, error) {
	if req.Resource != "" {
		u, err := url.Parse(req.Resource)
		if err != nil || !u.IsAbs() || u.Fragment != "" {
			return "", oauth.ErrInvalidTarget("resource must be an absolute URI without a fragment (RFC 8707).")
		}
		if req.Audience != "" && req.Audience != req.Resource {
			return "", oauth.ErrInvalidRequest("audience and resource name different APIs; send one.")
		}
		return req.Resource, nil
	}
	if req.Audience != "" {
		return req.Audience, nil
	}
	if i.cfg.DefaultAudience != "" {
		return i.cfg.DefaultAudience, nil
	}
	return "", oauth.ErrInvalidRequest("audience is required.")
}
