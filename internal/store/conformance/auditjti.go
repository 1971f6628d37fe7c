package conformance

import (
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// testAuditByJTI: the JTI filter finds the issuance events of exactly that
// jti (a reused token has several), whatever LIKE's wildcards and case
// rules, and no other kind of event that mentions it.
func testAuditByJTI(t *testing.T, s store.Store) {
	ctx := t.Context()
	ev := func(id string, minute int, kind, detail string) store.AuditEvent {
		return store.AuditEvent{ID: id, At: at(time.Duration(minute) * time.Minute), Kind: kind, Actor: "c1", ClientID: "c1", Detail: detail}
	}
	events := []store.AuditEvent{
		ev("a", 0, store.AuditTokenIssued, `{"audience":"https://api","jti":"abc_1","exp":100}`),
		ev("b", 1, store.AuditTokenIssued, `{"audience":"https://api","jti":"ABC_1","exp":100}`),
		ev("c", 2, store.AuditTokenIssued, `{"audience":"https://api","jti":"abcx1","exp":100}`),
		ev("d", 3, store.AuditTokenIssued, `{"audience":"https://api","jti":"abc_1","exp":100,"reused":true}`),
		ev("e", 4, "token.revoke", `{"jti":"abc_1"}`),
		ev("f", 5, store.AuditTokenIssued, `{"audience":"https://api","jti":"50%","exp":100}`),
		ev("g", 6, store.AuditTokenIssued, `{"audience":"https://api","jti":"50x","exp":100}`),
	}
	if err := s.AppendAudit(ctx, events); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    store.AuditFilter
		want []string
	}{
		{"exact jti, newest first", store.AuditFilter{JTI: "abc_1"}, []string{"d", "a"}},
		{"case differs", store.AuditFilter{JTI: "ABC_1"}, []string{"b"}},
		{"percent is literal", store.AuditFilter{JTI: "50%"}, []string{"f"}},
		{"unknown", store.AuditFilter{JTI: "nope"}, []string{}},
		{"with since", store.AuditFilter{JTI: "abc_1", Since: at(time.Minute)}, []string{"d"}},
	}
	for _, tt := range tests {
		got, err := s.ListAudit(ctx, tt.f)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		ids := []string{}
		for _, e := range got {
			ids = append(ids, e.ID)
		}
		if !reflect.DeepEqual(ids, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, ids, tt.want)
		}
	}
}
