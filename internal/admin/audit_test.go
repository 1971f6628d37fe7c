package admin

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// TestEachChangeIsAudited: every change records one event naming its
// kind, target and actor, with before (none for a creation) and after
// (none for a deletion) that hold no secret and no hash; and the node's
// catalog sees the change when the call returns.
func TestEachChangeIsAudited(t *testing.T) {
	w := newWorld(t)
	ctx := WithActor(t.Context(), "ops-client")
	r := newRotator(t, w)
	var id string
	var secrets []string // every plain secret seen, none of which may be audited
	str := func(s string) *string { return &s }
	yes, no := true, false
	newAPI := "https://audited.example"
	steps := []struct {
		kind, target     string
		change           func() error
		created, deleted bool
		seen             func() bool // nil: nothing the catalog shows
	}{
		{"tenant.create", "globex", func() error { return first(w.svc.CreateTenant(ctx, "globex", "")) }, true, false, nil},
		{"tenant.update", "globex", func() error { return first(w.svc.SetTenantLimits(ctx, "globex", store.Limits{QuotaDay: 9})) }, false, false,
			func() bool { return w.cat.TenantLimits("globex").QuotaDay == 9 }},
		{"environment.create", "globex/prod", func() error { return first(w.svc.CreateEnvironment(ctx, "globex", "prod")) }, true, false,
			func() bool { _, ok := w.cat.Environment("globex", "prod"); return ok }},
		{"api.create", newAPI, func() error {
			return first(w.svc.CreateAPI(ctx, store.API{Audience: newAPI, Scopes: []store.Scope{{Name: "x"}}}))
		}, true, false,
			func() bool { _, ok := w.cat.Resolve(newAPI, ""); return ok }},
		{"api.update", newAPI, func() error { return first(w.svc.UpdateAPI(ctx, newAPI, APIPatch{Name: str("renamed")})) }, false, false,
			func() bool { a, ok := w.cat.Resolve(newAPI, ""); return ok && a.Name == "renamed" }},
		{"client.create", "", func() error {
			c, plain, err := w.svc.CreateClient(ctx, NewClient{Name: "c", Tenant: "globex", Grants: map[string][]string{newAPI: {"x"}}})
			id, secrets = c.ID, append(secrets, plain)
			return err
		}, true, false, func() bool { _, ok := w.cat.Client(id); return ok }},
		{"client.update", "", func() error { return first(w.svc.UpdateClient(ctx, id, ClientPatch{Name: str("d")})) }, false, false,
			func() bool { c, _ := w.cat.Client(id); return c.Name == "d" }},
		{"client.disable", "", func() error { return first(w.svc.UpdateClient(ctx, id, ClientPatch{Disabled: &yes})) }, false, false,
			func() bool { c, _ := w.cat.Client(id); return c.Disabled }},
		{"client.enable", "", func() error { return first(w.svc.UpdateClient(ctx, id, ClientPatch{Disabled: &no})) }, false, false,
			func() bool { c, _ := w.cat.Client(id); return !c.Disabled }},
		{"client.rotate_secret", "", func() error {
			_, plain, err := w.svc.RotateSecret(ctx, id, RotateOptions{KeepOld: time.Hour, ExpiresIn: 0})
			secrets = append(secrets, plain)
			return err
		}, false, false, func() bool { c, _ := w.cat.Client(id); return len(c.Secrets) == 2 }},
		{"trust.create", "globex/gh", func() error {
			return first(w.svc.CreateTrust(ctx, store.Trust{Tenant: "globex", Name: "gh", Issuer: "https://token.actions.githubusercontent.com"}))
		}, true, false, nil},
		{"trust.update", "globex/gh", func() error { return first(w.svc.UpdateTrust(ctx, "globex", "gh", TrustPatch{SingleUse: &yes})) }, false, false, nil},
		{"trust.add_rule", "globex/gh", func() error {
			return first(w.svc.AddRule(ctx, "globex", "gh", store.TrustRule{Name: "main", Client: id, Match: `claims.ref == "refs/heads/main"`}))
		}, false, false, nil},
		{"trust.delete_rule", "globex/gh", func() error { return w.svc.DeleteRule(ctx, "globex", "gh", "main") }, false, false, nil},
		{"trust.delete", "globex/gh", func() error { return w.svc.DeleteTrust(ctx, "globex", "gh") }, false, true, nil},
		{"client.delete", "", func() error { return w.svc.DeleteClient(ctx, id) }, false, true,
			func() bool { _, ok := w.cat.Client(id); return !ok }},
		{"api.delete", newAPI, func() error { return w.svc.DeleteAPI(ctx, newAPI) }, false, true,
			func() bool { _, ok := w.cat.Resolve(newAPI, ""); return !ok }},
		{"keys.rotate", "", func() error { return first(w.svc.RotateKeys(ctx, r)) }, true, false, nil},
	}
	for _, s := range steps {
		t.Run(s.kind, func(t *testing.T) {
			must(t, s.change())
			if s.seen != nil && !s.seen() {
				t.Errorf("catalog: got the state before the change, want the change seen at once")
			}
			target := s.target
			if strings.HasPrefix(s.kind, "client.") {
				target = id
			}
			events := w.audit.take()
			if len(events) != 1 {
				t.Fatalf("audit: got %d events, want 1", len(events))
			}
			e := events[0]
			if e.Kind != s.kind || e.Target != target || e.Actor != "ops-client" {
				t.Errorf("audit: got %s %q by %q, want %s %q by ops-client", e.Kind, e.Target, e.Actor, s.kind, target)
			}
			if (e.Before == nil) != s.created || (e.After == nil) != s.deleted {
				t.Errorf("audit: got before %v and after %v, want before only if not created, after only if not deleted", e.Before, e.After)
			}
			checkNoSecrets(t, e, secrets)
		})
	}
}

// checkNoSecrets fails t if an audit event holds one of secrets or any
// stored hash, as JSON or as printed.
func checkNoSecrets(t *testing.T, e auditEvent, secrets []string) {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"before": e.Before, "after": e.After})
	if err != nil {
		t.Fatalf("audit detail is not JSON: %v", err)
	}
	// The Go values too: a store.Client hides its hashes from JSON only.
	text := string(raw) + fmt.Sprintf("%+v %+v", e.Before, e.After)
	for _, bad := range append([]string{"sha256:", "bcrypt:", `"hash"`, "private"}, secrets...) {
		if strings.Contains(text, bad) {
			t.Errorf("audit detail holds %.12q: %s", bad, text)
		}
	}
}
