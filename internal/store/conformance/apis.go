package conformance

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

func testAPICRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	auds := []string{"https://b.example.io", "https://a.example.io", "urn:gatehouse:admin"}
	for _, aud := range auds {
		if err := s.CreateAPI(ctx, newAPI(aud)); err != nil {
			t.Fatalf("CreateAPI(%s): got %v, want nil", aud, err)
		}
	}
	got, err := s.GetAPI(ctx, "https://a.example.io")
	if err != nil {
		t.Fatalf("GetAPI: got %v, want nil", err)
	}
	check(t, "GetAPI", got, newAPI("https://a.example.io"), normAPI)

	want := newAPI("https://a.example.io")
	want.Name = "Renamed"
	want.Scopes = append(want.Scopes, store.Scope{Name: "admin", Description: "Everything"})
	want.TokenTTL = time.Hour
	want.UpdatedAt = at(time.Minute)
	updated, err := s.UpdateAPI(ctx, want.Audience, func(old store.API) (store.API, error) {
		check(t, "UpdateAPI: fn's old value", old, newAPI(want.Audience), normAPI)
		old.Name, old.Scopes, old.TokenTTL, old.UpdatedAt = want.Name, want.Scopes, want.TokenTTL, want.UpdatedAt
		return old, nil
	})
	if err != nil {
		t.Fatalf("UpdateAPI: got %v, want nil", err)
	}
	check(t, "UpdateAPI's result", updated, want, normAPI)
	got, err = s.GetAPI(ctx, want.Audience)
	if err != nil {
		t.Fatalf("GetAPI after UpdateAPI: got %v, want nil", err)
	}
	check(t, "GetAPI after UpdateAPI", got, want, normAPI)

	if err := s.DeleteAPI(ctx, "https://b.example.io"); err != nil {
		t.Fatalf("DeleteAPI: got %v, want nil", err)
	}
	if _, err := s.GetAPI(ctx, "https://b.example.io"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetAPI after DeleteAPI: got %v, want ErrNotFound", err)
	}
	list, err := s.ListAPIs(ctx)
	if err != nil {
		t.Fatalf("ListAPIs: got %v, want nil", err)
	}
	gotAuds := ids(list, func(a store.API) string { return a.Audience })
	if want := []string{"https://a.example.io", "urn:gatehouse:admin"}; !slices.Equal(gotAuds, want) {
		t.Errorf("ListAPIs: got %v, want %v", gotAuds, want)
	}
}

func apiWithService(aud, service string) store.API {
	a := newAPI(aud)
	a.Service = service
	return a
}

func testAPIUniqueService(t *testing.T, s store.Store) {
	ctx := t.Context()
	if err := s.CreateAPI(ctx, apiWithService("https://stream.example.io", "streaming-property")); err != nil {
		t.Fatalf("CreateAPI with a service: got %v, want nil", err)
	}
	tests := []struct {
		name string
		api  store.API
		want error
	}{
		{"same service", apiWithService("https://stream2.example.io", "streaming-property"), store.ErrAlreadyExists},
		{"other service", apiWithService("https://other.example.io", "other"), nil},
		{"first without service", apiWithService("https://plain1.example.io", ""), nil},
		{"second without service", apiWithService("https://plain2.example.io", ""), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.CreateAPI(ctx, tt.api); !errors.Is(err, tt.want) {
				t.Errorf("CreateAPI(%s, service %q): got %v, want %v", tt.api.Audience, tt.api.Service, err, tt.want)
			}
		})
	}

	t.Run("update to a taken service", func(t *testing.T) {
		aud := "https://plain1.example.io"
		_, err := s.UpdateAPI(ctx, aud, func(old store.API) (store.API, error) {
			old.Service = "streaming-property"
			return old, nil
		})
		if !errors.Is(err, store.ErrAlreadyExists) {
			t.Errorf("UpdateAPI to a taken service: got %v, want ErrAlreadyExists", err)
		}
		got, err := s.GetAPI(ctx, aud)
		if err != nil {
			t.Fatalf("GetAPI: got %v, want nil", err)
		}
		if got.Service != "" {
			t.Errorf("service after the failed update: got %q, want \"\"", got.Service)
		}
	})

	t.Run("service freed by delete", func(t *testing.T) {
		if err := s.DeleteAPI(ctx, "https://stream.example.io"); err != nil {
			t.Fatalf("DeleteAPI: got %v, want nil", err)
		}
		a := apiWithService("https://stream2.example.io", "streaming-property")
		if err := s.CreateAPI(ctx, a); err != nil {
			t.Errorf("CreateAPI with the freed service: got %v, want nil", err)
		}
	})
}

func testAPIRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	tests := []struct {
		name string
		edit func(a *store.API)
	}{
		{"defaults", func(a *store.API) {}},
		{"template audience", func(a *store.API) { a.Audience = "https://delivery.example.io/{tenant}" }},
		{"urn audience", func(a *store.API) { a.Audience = "urn:gatehouse:introspect" }},
		{"opaque EdDSA", func(a *store.API) { a.TokenFormat, a.SigningAlg = store.FormatOpaque, "EdDSA" }},
		{"built in", func(a *store.API) { a.BuiltIn = true }},
		{"service", func(a *store.API) { a.Service = "streaming-property" }},
		{"no scopes", func(a *store.API) { a.Scopes = []store.Scope{} }},
		{"scope order and text", func(a *store.API) {
			a.Scopes = []store.Scope{
				{Name: "z:last", Description: `quotes " and \ and ünïcode`},
				{Name: "a:first", Description: "line\nbreak"},
				{Name: "m:middle"},
			}
		}},
		{"ttl 1m", func(a *store.API) { a.TokenTTL = time.Minute }},
		{"ttl 90s", func(a *store.API) { a.TokenTTL = 90 * time.Second }},
		{"ttl 24h", func(a *store.API) { a.TokenTTL = 24 * time.Hour }},
		{"ttl 720h", func(a *store.API) { a.TokenTTL = 720 * time.Hour }},
		{"zero times", func(a *store.API) { a.CreatedAt, a.UpdatedAt = time.Time{}, time.Time{} }},
		{"accepts exchange", func(a *store.API) { a.AcceptExchangeFrom = []string{"https://orders.example.io", "urn:x"} }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAPI("https://rt.example.io/" + string(rune('a'+i)))
			tt.edit(&a)
			if err := s.CreateAPI(ctx, a); err != nil {
				t.Fatalf("CreateAPI: got %v, want nil", err)
			}
			got, err := s.GetAPI(ctx, a.Audience)
			if err != nil {
				t.Fatalf("GetAPI: got %v, want nil", err)
			}
			check(t, "GetAPI", got, a, normAPI)
		})
	}
}
