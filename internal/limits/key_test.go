package limits

import "testing"

// A counter key read back from the store names the same entry the hot
// path looks up, and keys of no known window are skipped.
func TestParseCounterKey(t *testing.T) {
	for _, tt := range []struct {
		key       string
		ok        bool
		scope, id string
		w         window
	}{
		{"client:abc:h", true, "client", "abc", perHour},
		{"tenant:acme:d", true, "tenant", "acme", perDay},
		{"client:a:b:s", true, "client", "a:b", perSecond},
		{"client:abc:w", false, "", "", window{}},
		{"client", false, "", "", window{}},
		{"client:h", false, "", "", window{}},
	} {
		k, w, ok := parseCounterKey(tt.key, 7)
		if ok != tt.ok || k.scope != tt.scope || k.id != tt.id || w != tt.w {
			t.Errorf("parseCounterKey(%q) = %+v, %v, %v", tt.key, k, w, ok)
			continue
		}
		if ok && (k.counterKey() != tt.key || k.start != 7) {
			t.Errorf("parseCounterKey(%q) does not round-trip: %q", tt.key, k.counterKey())
		}
	}
}
