package conformance

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// RunTests runs the conformance suite. newStore must return a fresh, empty
// store and arrange for it to be closed when the test ends.
func RunTests(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"Ping", testPing},
		{"TenantCRUD", testTenantCRUD},
		{"EnvironmentCRUD", testEnvironmentCRUD},
		{"EnvironmentUniqueAPIKey", testEnvironmentUniqueAPIKey},
		{"EnvironmentMissingTenant", testEnvironmentMissingTenant},
		{"APICRUD", testAPICRUD},
		{"APIUniqueService", testAPIUniqueService},
		{"APIRoundTrip", testAPIRoundTrip},
		{"ClientCRUD", testClientCRUD},
		{"ClientRoundTrip", testClientRoundTrip},
		{"KeyCRUD", testKeyCRUD},
		{"KeyRoundTrip", testKeyRoundTrip},
		{"NotFound", testNotFound},
		{"AlreadyExists", testAlreadyExists},
		{"UpdateFnErrorAborts", testUpdateFnErrorAborts},
		{"UpdateKeepsKey", testUpdateKeepsKey},
		{"UpdateCompareAndSwap", testUpdateCompareAndSwap},
		{"TimePrecision", testTimePrecision},
		{"KeyOneNextPerAlg", testKeyOneNextPerAlg},
		{"ChangeFeedOrder", testChangeFeedOrder},
		{"ChangeFeedRefusedWrites", testChangeFeedRefusedWrites},
		{"ChangeFeedPrune", testChangeFeedPrune},
		{"ChangeListen", testChangeListen},
		{"AuditRetriedBatch", testAuditRetriedBatch},
		{"LimitsRoundTrip", testLimitsRoundTrip},
		{"OpaqueTokens", testOpaqueTokens},
		{"Revocations", testRevocations},
		{"AuditFilters", testAuditFilters},
		{"AuditByJTI", testAuditByJTI},
		{"AuditLargeBatch", testAuditLargeBatch},
		{"PromoteKey", testPromoteKey},
		{"ClientAuthRoundTrip", testClientAuthRoundTrip},
		{"OpaqueTokenBinding", testOpaqueTokenBinding},
		{"ClaimIDs", testClaimIDs},
		{"DeleteTenant", testDeleteTenant},
		{"DeleteEnvironment", testDeleteEnvironment},
		{"LeaseCounters", testLeaseCounters},
		{"LimitModeRoundTrip", testLimitModeRoundTrip},
		{"TrustCRUD", testTrustCRUD},
		{"TrustMissingTenant", testTrustMissingTenant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newStore(t)) })
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: got %v, want nil", err)
	}
}

// t0 has nanoseconds and a zone other than UTC, so that round trips show
// both the precision a backend keeps and that it compares instants, not zones.
var t0 = time.Date(2025, 6, 1, 12, 30, 45, 123456789, time.FixedZone("IST", 5*3600+30*60))

func at(d time.Duration) time.Time { return t0.Add(d) }

func ptr[T any](v T) *T { return &v }

func newTenant(id string) store.Tenant {
	return store.Tenant{ID: id, Name: "Tenant " + id, CreatedAt: t0}
}

func newEnvironment(tenant, id string) store.Environment {
	return store.Environment{Tenant: tenant, ID: id, APIKey: "key-" + tenant + "-" + id, CreatedAt: at(time.Second)}
}

func newAPI(audience string) store.API {
	return store.API{
		Audience:    audience,
		Name:        "API " + audience,
		Scopes:      []store.Scope{{Name: "read:things", Description: "Read things"}, {Name: "write:things"}},
		TokenTTL:    15 * time.Minute,
		TokenFormat: store.FormatJWT,
		SigningAlg:  "RS256",
		CreatedAt:   at(2 * time.Second),
		UpdatedAt:   at(3 * time.Second),
	}
}

func newClient(id string) store.Client {
	return store.Client{
		ID:          id,
		Name:        "Client " + id,
		Tenant:      "acme",
		Environment: "qa",
		Grants: map[string][]string{
			"https://api.example.io":               {"read:things", "write:things"},
			"https://delivery.example.io/{tenant}": {"deliver"},
		},
		Secrets: []store.Secret{
			{ID: "s1", Hash: "sha256:aaaa", CreatedAt: at(4 * time.Second), ExpiresAt: ptr(at(24 * time.Hour))},
			{ID: "s2", Hash: "sha256:bbbb", CreatedAt: at(5 * time.Second)},
		},
		TokenTTL:  24 * time.Hour,
		CreatedAt: at(4 * time.Second),
		UpdatedAt: at(6 * time.Second),
	}
}

func newKey(kid string) store.SigningKey {
	return store.SigningKey{
		KID:         kid,
		Alg:         "ES256",
		State:       store.KeyNext,
		PrivateKey:  []byte{0x00, 0x01, 0xfe, 0xff, 'k', 0x00},
		PublicKey:   []byte{0x30, 0x59, 0x00, 0xff},
		CreatedAt:   at(7 * time.Second),
		ActivatesAt: at(time.Hour),
	}
}

// check reports, field by field, where got differs from want once both
// are normalised by norm.
func check[T any](t *testing.T, what string, got, want T, norm func(T) T) {
	t.Helper()
	g, w := reflect.ValueOf(norm(got)), reflect.ValueOf(norm(want))
	for i := range g.NumField() {
		gf, wf := g.Field(i), w.Field(i)
		if !reflect.DeepEqual(gf.Interface(), wf.Interface()) {
			t.Errorf("%s: %s: got %s, want %s", what, g.Type().Field(i).Name, show(gf), show(wf))
		}
	}
}

// show formats a field for a failure message, following pointers.
func show(v reflect.Value) string {
	switch {
	case v.Type() == reflect.TypeFor[[]byte]():
		return fmt.Sprintf("%x", v.Bytes())
	case v.Kind() == reflect.Pointer || v.Kind() == reflect.Slice || v.Kind() == reflect.Map:
		if v.IsNil() {
			return "nil"
		}
		b, err := json.Marshal(v.Interface())
		if err != nil {
			return fmt.Sprintf("%v", v.Interface())
		}
		return string(b)
	default:
		return fmt.Sprintf("%v", v.Interface())
	}
}

// The norm functions drop what a backend need not keep: precision below a
// microsecond, the time zone, and the difference between nil and empty.

func normTime(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }

func normTimePtr(p *time.Time) *time.Time {
	if p == nil {
		return nil
	}
	return ptr(normTime(*p))
}

func normTenant(x store.Tenant) store.Tenant {
	x.CreatedAt = normTime(x.CreatedAt)
	return x
}

func normEnvironment(x store.Environment) store.Environment {
	x.CreatedAt = normTime(x.CreatedAt)
	return x
}

func normAPI(x store.API) store.API {
	if len(x.Scopes) == 0 {
		x.Scopes = nil
	}
	x.CreatedAt, x.UpdatedAt = normTime(x.CreatedAt), normTime(x.UpdatedAt)
	return x
}

func normClient(x store.Client) store.Client {
	var grants map[string][]string
	for aud, scopes := range x.Grants {
		if grants == nil {
			grants = map[string][]string{}
		}
		if len(scopes) == 0 {
			scopes = nil
		}
		grants[aud] = scopes
	}
	x.Grants = grants
	var secrets []store.Secret
	for _, sec := range x.Secrets {
		sec.CreatedAt, sec.ExpiresAt = normTime(sec.CreatedAt), normTimePtr(sec.ExpiresAt)
		secrets = append(secrets, sec)
	}
	x.Secrets = secrets
	x.CreatedAt, x.UpdatedAt = normTime(x.CreatedAt), normTime(x.UpdatedAt)
	x.TokensNotBefore = normTime(x.TokensNotBefore)
	return x
}

func normKey(x store.SigningKey) store.SigningKey {
	if len(x.PrivateKey) == 0 {
		x.PrivateKey = nil
	}
	if len(x.PublicKey) == 0 {
		x.PublicKey = nil
	}
	x.CreatedAt, x.ActivatesAt = normTime(x.CreatedAt), normTime(x.ActivatesAt)
	x.RetiredAt, x.RemoveAfter = normTimePtr(x.RetiredAt), normTimePtr(x.RemoveAfter)
	return x
}

// ids lists the keys of xs, for comparing the order of List results.
func ids[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}
