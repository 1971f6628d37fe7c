package federation

import (
	"reflect"

	"github.com/gatehouse/gatehouse/internal/store"
)

// Trust is a stored trust made ready to run: its rules compiled once, when
// the catalog loads or refreshes it, never per request. It is immutable.
type Trust struct {
	store.Trust
	Rules []Rule
}

// Rule is one compiled rule. Err is set, and Match nil, when the stored
// expression no longer compiles (saved by an older version, say): such a
// rule never matches, and its verdict says why.
type Rule struct {
	store.TrustRule
	Match *Match
	Err   error
}

// CompileTrust compiles every rule of t.
func CompileTrust(t store.Trust) *Trust {
	out := &Trust{Trust: t, Rules: make([]Rule, len(t.Rules))}
	for i, r := range t.Rules {
		m, err := Compile(r.Match)
		out.Rules[i] = Rule{TrustRule: r, Match: m, Err: err}
	}
	return out
}

// Same reports whether t was compiled from exactly s, so that a catalog
// reload can keep the compiled value.
func (t *Trust) Same(s store.Trust) bool {
	return t != nil && reflect.DeepEqual(t.Trust, s)
}
