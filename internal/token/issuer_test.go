package token

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/limits"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
)

const addr = "192.0.2.10"

// issue runs a request through Issuer.Token from addr and fails the test
// unless it succeeds.
func issue(t *testing.T, i *Issuer, req oauth.TokenRequest, service string) Outcome {
	t.Helper()
	out, err := i.Token(t.Context(), req, service, addr)
	if err != nil {
		t.Fatalf("Token: got %v, want a token", err)
	}
	return out
}

// TestTokenRefusedBeforeAuthentication: what the request itself gets
// wrong is answered before the client is authenticated, and never counts
// as a failed authentication.
func TestTokenRefusedBeforeAuthentication(t *testing.T) {
	w := newWorld(t)
	c := w.client(admin.NewClient{Environment: "qa", Grants: map[string][]string{platform: {"read"}, property: {"property:write"}}})
	wrong := cred{c.id, "gatehouse_wrong"}
	cases := []struct {
		name, service string
		req           oauth.TokenRequest
		status        int
		code, desc    string
	}{
		{"missing grant_type", "", withParams(wrong.req("audience", platform), "grant_type", ""), 400, "invalid_request", "grant_type is required"},
		{"password grant", "", withParams(wrong.req("audience", platform), "grant_type", "password"), 400, "unsupported_grant_type", `"password"`},
		{"authorization code grant", "", withParams(wrong.req("audience", platform), "grant_type", "authorization_code"), 400, "unsupported_grant_type", "use client_credentials"},
		{"unknown service", "nothing", wrong.req(), 404, "invalid_request", `No service named "nothing"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for range 12 {
				_, err := w.iss.Token(t.Context(), tc.req, tc.service, addr)
				wantError(t, err, tc.status, tc.code, tc.desc)
			}
		})
	}
	issue(t, w.iss, c.req("audience", platform), "")
	issue(t, w.iss, c.req(), "streaming-property")
}

// TestTokenInvalidClient: every way of failing to authenticate gets the
// same answer, so a caller learns nothing about which client ids exist.
func TestTokenInvalidClient(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	grants := map[string][]string{platform: {"read"}}
	ok := w.client(admin.NewClient{Grants: grants})
	disabled := w.client(admin.NewClient{Grants: grants})
	deleted := w.client(admin.NewClient{Grants: grants})
	rotated := w.client(admin.NewClient{Grants: grants})
	expiring := w.client(admin.NewClient{Grants: grants, SecretExpiresIn: time.Hour})
	if _, err := w.admin.UpdateClient(ctx, disabled.id, admin.ClientPatch{Disabled: new(true)}); err != nil {
		t.Fatal(err)
	}
	if err := w.admin.DeleteClient(ctx, deleted.id); err != nil {
		t.Fatal(err)
	}
	_, newSecret, err := w.admin.RotateSecret(ctx, rotated.id, admin.RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Add(time.Hour)
	want := oauth.ErrInvalidClient(false)
	cases := map[string]oauth.TokenRequest{
		"wrong secret":                  withParams(ok.req("audience", platform), "client_secret", "gatehouse_wrong"),
		"another client's secret":       withParams(ok.req("audience", platform), "client_secret", disabled.secret),
		"empty secret":                  withParams(ok.req("audience", platform), "client_secret", ""),
		"unknown client":                cred{"nobody", ok.secret}.req("audience", platform),
		"no client id":                  withParams(ok.req("audience", platform), "client_id", ""),
		"disabled client":               disabled.req("audience", platform),
		"deleted client":                deleted.req("audience", platform),
		"the old secret after rotation": rotated.req("audience", platform),
		"a secret past its own expiry":  expiring.req("audience", platform),
		"a known id with more after it": cred{ok.id + strings.Repeat("x", 300), ok.secret}.req("audience", platform),
	}
	for name, req := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := w.iss.Token(ctx, req, "", addr)
			var e *oauth.Error
			if !errors.As(err, &e) || e.Status != want.Status || e.Code != want.Code || e.Description != want.Description || e.Challenge != "" {
				t.Errorf("got %#v, want exactly %#v", err, want)
			}
		})
	}
	t.Run("by Basic: the same, with a challenge", func(t *testing.T) {
		req := withParams(ok.req("audience", platform), "client_secret", "gatehouse_wrong")
		req.Basic = true
		_, err := w.iss.Token(ctx, req, "", addr)
		if e := oauth.AsError(err); e.Code != "invalid_client" || e.Challenge != `Basic realm="gatehouse", charset="UTF-8"` {
			t.Errorf("got %v challenge %q, want invalid_client with a Basic challenge", err, e.Challenge)
		}
	})
	t.Run("the new secret after rotation", func(t *testing.T) {
		issue(t, w.iss, cred{rotated.id, newSecret}.req("audience", platform), "")
	})
	t.Run("enabled again", func(t *testing.T) {
		if _, err := w.admin.UpdateClient(ctx, disabled.id, admin.ClientPatch{Disabled: new(false)}); err != nil {
			t.Fatal(err)
		}
		issue(t, w.iss, disabled.req("audience", platform), "")
	})
}

// TestSecretRotationOverlap: after a rotation that keeps the old secret
// for an hour, both work for that hour, then only the new one.
func TestSecretRotationOverlap(t *testing.T) {
	w := newWorld(t)
	c := w.client(admin.NewClient{Grants: map[string][]string{platform: {"read"}}})
	stored, newSecret, err := w.admin.RotateSecret(t.Context(), c.id, admin.RotateOptions{KeepOld: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.Secrets) != 2 {
		t.Fatalf("after rotation: got %d secrets, want the old and the new", len(stored.Secrets))
	}
	steps := []struct {
		advance      time.Duration
		oldOK, newOK bool
	}{
		{0, true, true},
		{59 * time.Minute, true, true},
		{2 * time.Minute, false, true},
	}
	for _, s := range steps {
		w.clock.Add(s.advance)
		for _, sec := range []struct {
			name, secret string
			want         bool
		}{{"old", c.secret, s.oldOK}, {"new", newSecret, s.newOK}} {
			_, err := w.iss.Token(t.Context(), withParams(c.req("audience", platform), "client_secret", sec.secret), "", addr)
			if got := err == nil; got != sec.want {
				t.Errorf("at +%v the %s secret: got %v, want success %v", w.clock.Now().Sub(stored.UpdatedAt), sec.name, err, sec.want)
			}
		}
	}
	t.Run("two rotations in a row keep the two newest secrets", func(t *testing.T) {
		_, second, err := w.admin.RotateSecret(t.Context(), c.id, admin.RotateOptions{KeepOld: time.Hour, ExpireOldNow: true})
		if err != nil {
			t.Fatal(err)
		}
		_, third, err := w.admin.RotateSecret(t.Context(), c.id, admin.RotateOptions{KeepOld: time.Hour, ExpireOldNow: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, sec := range []struct {
			name, secret string
			want         bool
		}{{"first", newSecret, false}, {"second", second, true}, {"third", third, true}} {
			_, err := w.iss.Token(t.Context(), withParams(c.req("audience", platform), "client_secret", sec.secret), "", addr)
			if got := err == nil; got != sec.want {
				t.Errorf("the %s of three secrets: got %v, want success %v", sec.name, err, sec.want)
			}
		}
	})
}

// TestTokenThrottle is DESIGN §6: ten failures in a minute for one client
// id, or a hundred from one address, are answered 429 with Retry-After,
// the right secret included, backing off from one second; the real client
// gets in again once the backoff has passed.
func TestTokenThrottle(t *testing.T) {
	w := newWorld(t)
	c := w.client(admin.NewClient{Grants: map[string][]string{platform: {"read"}}})
	guess := withParams(c.req("audience", platform), "client_secret", "gatehouse_guess")
	try := func(req oauth.TokenRequest, from string) *oauth.Error {
		if _, err := w.iss.Token(t.Context(), req, "", from); err != nil {
			return oauth.AsError(err)
		}
		return nil
	}
	for n := range 10 {
		if e := try(guess, addr); e == nil || e.Status != 401 {
			t.Fatalf("guess %d: got %v, want 401", n+1, e)
		}
	}
	for _, tc := range []struct {
		name string
		req  oauth.TokenRequest
	}{{"11th guess", guess}, {"the right secret during the backoff", c.req("audience", platform)}} {
		if e := try(tc.req, addr); e == nil || e.Status != 429 || e.Code != "too_many_requests" || e.RetryAfter != time.Second {
			t.Errorf("%s: got %v (Retry-After %v), want 429 too_many_requests after 1s", tc.name, e, e.RetryAfter)
		}
	}
	w.clock.Add(1100 * time.Millisecond)
	if e := try(c.req("audience", platform), addr); e != nil {
		t.Errorf("the right secret after the backoff: got %v, want a token", e)
	}
	for range 10 {
		try(guess, addr)
	}
	if e := try(c.req("audience", platform), addr); e == nil || e.RetryAfter != 2*time.Second {
		t.Errorf("failures going on: got %v, want the backoff doubled to 2s", e)
	}

	t.Run("a hundred failures from one address", func(t *testing.T) {
		w.clock.Add(10 * time.Minute)
		other := w.client(admin.NewClient{Grants: map[string][]string{platform: {"read"}}})
		const guesser = "198.51.100.7"
		for n := range 100 {
			try(cred{fmt.Sprintf("guess%d", n), "x"}.req("audience", platform), guesser)
		}
		if e := try(other.req("audience", platform), guesser); e == nil || e.Status != 429 {
			t.Errorf("a real client from that address: got %v, want 429", e)
		}
		if e := try(other.req("audience", platform), addr); e != nil {
			t.Errorf("the same client from another address: got %v, want a token", e)
		}
	})
}

// TestThrottleCoversEveryAuthenticatedEndpoint: secrets guessed at
// introspection count like those at the token endpoint, and a client id
// blocked at one is blocked at all of them.
func TestThrottleCoversEveryAuthenticatedEndpoint(t *testing.T) {
	w := newWorld(t)
	c := w.client(admin.NewClient{Grants: map[string][]string{platform: {"read"}}})
	ctx := t.Context()
	for n := range 10 {
		_, err := w.iss.Introspect(ctx, withParams(c.req("token", "x"), "client_secret", "gatehouse_guess"), addr)
		wantError(t, err, 401, "invalid_client", "")
		if t.Failed() {
			t.Fatalf("guess %d at introspection", n+1)
		}
	}
	right := c.req("token", "x", "audience", platform)
	_, err := w.iss.Introspect(ctx, right, addr)
	wantError(t, err, 429, "too_many_requests", "")
	wantError(t, w.iss.Revoke(ctx, right, addr), 429, "too_many_requests", "")
	_, err = w.iss.RevokedSince(ctx, right, addr, time.Time{})
	wantError(t, err, 429, "too_many_requests", "")
	_, err = w.iss.Token(ctx, right, "", addr)
	wantError(t, err, 429, "too_many_requests", "")
}

// TestTokenLimits: per-client rate limits and quotas, and tenant quotas,
// report their budget on every answer and refuse past it with 429, the
// RateLimit headers and the limit as the cause.
func TestTokenLimits(t *testing.T) {
	w := newWorld(t)
	grants := map[string][]string{platform: {"read"}}
	limited := w.client(admin.NewClient{Grants: grants, Limits: store.Limits{RatePerSecond: 5, QuotaHour: 8}})
	free := w.client(admin.NewClient{Tenant: "other", Grants: grants})
	try := func(c cred) (Outcome, *oauth.Error) {
		out, err := w.iss.Token(t.Context(), c.req("audience", platform), "", addr)
		if err != nil {
			return out, oauth.AsError(err)
		}
		return out, nil
	}
	exceeded := func(e *oauth.Error, limit string, reset string) {
		t.Helper()
		var cause limits.ExceededError
		if e == nil || e.Status != 429 || e.RetryAfter <= 0 || e.Header["RateLimit-Remaining"] != "0" ||
			(reset != "" && e.Header["RateLimit-Reset"] != reset) || !errors.As(e, &cause) || cause.Limit != limit {
			t.Errorf("got %v headers %v, want 429 with Retry-After, RateLimit-* (reset %s) and cause %q", e, e.Header, reset, limit)
		}
	}
	for n := range 5 {
		out, e := try(limited)
		if e != nil || !out.Limited || out.Budget.Limit != 5 || out.Budget.Remaining != int64(4-n) {
			t.Errorf("request %d: got %v limited %v budget %+v, want a token with 5/%d", n, e, out.Limited, out.Budget, 4-n)
		}
	}
	_, e := try(limited)
	exceeded(e, "rate limit", "1")
	w.clock.Add(time.Second)
	for n := range 3 {
		if out, e := try(limited); e != nil || (n == 2 && out.Budget.Limit != 8) {
			t.Errorf("next second, request %d: got %v budget %+v", n, e, out.Budget)
		}
	}
	_, e = try(limited)
	exceeded(e, "hourly quota", "2999") // the clock stands at 10:01 past the hour
	if out, e := try(free); e != nil || out.Limited {
		t.Errorf("a client without limits: got %v limited %v, want a token without a budget", e, out.Limited)
	}
	w.clock.Add(time.Hour)
	if _, e := try(limited); e != nil {
		t.Errorf("next hour: got %v, want a token", e)
	}

	t.Run("a tenant quota is shared by its clients", func(t *testing.T) {
		if _, err := w.admin.SetTenantLimits(t.Context(), "other", store.Limits{QuotaDay: 2}); err != nil {
			t.Fatal(err)
		}
		second := w.client(admin.NewClient{Tenant: "other", Grants: grants})
		w.clock.Add(24 * time.Hour)
		_, e1 := try(free)
		_, e2 := try(second)
		_, e3 := try(free)
		if e1 != nil || e2 != nil {
			t.Errorf("two tokens under a quota of two: got %v, %v", e1, e2)
		}
		exceeded(e3, "tenant daily quota", "")
	})
}
