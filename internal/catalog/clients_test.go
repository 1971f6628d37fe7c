package catalog

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// fillAll sets every field of v, however deep, to a non-zero value, so a
// field added to store.Client later that the table does not keep fails
// TestClientTableKeepsEveryField instead of vanishing from the catalog.
func fillAll(t *testing.T, v reflect.Value, seed int) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", seed))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(seed) + 7)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 5, 1, 12, 0, seed, 123456789, time.UTC)))
			return
		}
		for i := range v.NumField() {
			fillAll(t, v.Field(i), seed*10+i)
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillAll(t, v.Elem(), seed+1)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fillAll(t, v.Index(i), seed+i)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fillAll(t, k, seed)
		fillAll(t, e, seed+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	default:
		t.Fatalf("store.Client has a field of kind %s: teach fillAll and clientTable about it", v.Kind())
	}
}

func TestClientTableKeepsEveryField(t *testing.T) {
	var full store.Client
	fillAll(t, reflect.ValueOf(&full).Elem(), 1)
	withoutExpiry := full
	withoutExpiry.ID = "no-expiry"
	withoutExpiry.Secrets = []store.Secret{{ID: "s", Hash: "h", CreatedAt: time.Unix(5, 0).UTC()}}
	tests := []struct {
		name string
		c    store.Client
	}{
		{"every field set", full},
		{"zero apart from the id", store.Client{ID: "bare"}},
		{"empty grants and secrets", store.Client{ID: "empty", Grants: map[string][]string{}, Secrets: []store.Secret{}}},
		{"nil and empty scope lists", store.Client{ID: "scopes", Grants: map[string][]string{"a": nil, "b": {}}}},
		{"a secret without expiry", withoutExpiry},
	}
	tab := newClientTable(0)
	for _, tt := range tests {
		tab.put(&tt.c)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tab.get(tt.c.ID)
			if !ok {
				t.Fatalf("get(%q): got not found, want the client", tt.c.ID)
			}
			if !reflect.DeepEqual(*got, tt.c) {
				t.Errorf("get(%q):\ngot  %+v\nwant %+v", tt.c.ID, *got, tt.c)
			}
		})
	}
}

func TestClientTableSharesGrantsAndCompacts(t *testing.T) {
	tab := newClientTable(0)
	const n = 3000
	for round := range 10 { // every round replaces every client
		for i := range n {
			tab.put(&store.Client{ID: fmt.Sprintf("c%d", i), Name: fmt.Sprintf("round %d %0200d", round, i),
				Tenant: "acme", Grants: map[string][]string{"https://api.example.io": {"read"}}})
		}
	}
	tab.remove("c0")
	tab.remove("no-such-client")
	if got, want := tab.len(), n-1; got != want {
		t.Errorf("len: got %d, want %d", got, want)
	}
	if _, ok := tab.get("c0"); ok {
		t.Errorf("get(c0) after remove: got found, want not found")
	}
	a, _ := tab.get("c1")
	b, _ := tab.get("c2")
	if a.Name != fmt.Sprintf("round 9 %0200d", 1) {
		t.Errorf("c1's name: got %q, want the last round's", a.Name)
	}
	if reflect.ValueOf(a.Grants).UnsafePointer() != reflect.ValueOf(b.Grants).UnsafePointer() {
		t.Errorf("two clients with equal grants: got two maps, want one shared")
	}
	if got, want := len(tab.grants.sets), 2; got != want { // nil and the one set
		t.Errorf("grant sets: got %d, want %d", got, want)
	}
	if tab.dead >= chunkSize && tab.dead >= tab.live {
		t.Errorf("after 10 rounds of updates: got %d dead bytes beside %d live, want compacted", tab.dead, tab.live)
	}
	total := 0
	for _, ch := range tab.chunks {
		total += cap(ch)
	}
	if total > 4*(tab.live+tab.dead)+chunkSize {
		t.Errorf("chunks hold %d bytes for %d live and %d dead: want them released by compaction", total, tab.live, tab.dead)
	}
}

// TestClientTableKeepsPointersWhileUnchanged: the reuse window takes an
// unchanged client to be the same *store.Client; a change is a new one.
func TestClientTableKeepsPointersWhileUnchanged(t *testing.T) {
	tab := newClientTable(0)
	tab.put(&store.Client{ID: "a", Name: "one"})
	first, _ := tab.get("a")
	if again, _ := tab.get("a"); again != first {
		t.Errorf("two lookups of an unchanged client: got two pointers, want one")
	}
	tab.put(&store.Client{ID: "a", Name: "two"})
	changed, _ := tab.get("a")
	if changed == first || changed.Name != "two" || first.Name != "one" {
		t.Errorf("after a change: got the same pointer or names %q/%q, want a new client and the old one untouched", first.Name, changed.Name)
	}
	for i := range hotMax + 10 { // the hot set starts over past its bound
		id := fmt.Sprint("c", i)
		tab.put(&store.Client{ID: id})
		if c, ok := tab.get(id); !ok || c.ID != id {
			t.Fatalf("get(%s): got %v, %v", id, c, ok)
		}
	}
	if n := tab.hot.Load().n.Load(); n > hotMax {
		t.Errorf("hot clients: got %d, want at most %d", n, hotMax)
	}
}

// TestClientTableHashCollisions: ids whose hashes collide (here all of
// them) are still found, replaced, removed and compacted, each apart.
func TestClientTableHashCollisions(t *testing.T) {
	tab := newClientTable(0)
	tab.hashOf = func(string) uint64 { return 7 }
	const n = 50
	for round := range 3 {
		for i := range n {
			tab.put(&store.Client{ID: fmt.Sprint("c", i), Name: fmt.Sprintf("round %d %020000d", round, i)})
		}
	}
	if tab.dead >= chunkSize && tab.dead >= tab.live {
		t.Errorf("after three rounds: got %d dead bytes beside %d live, want compacted", tab.dead, tab.live)
	}
	tab.remove("c0") // the one in the index
	tab.remove("c1") // one in overflow
	if got, want := tab.len(), n-2; got != want {
		t.Errorf("len: got %d, want %d", got, want)
	}
	for i := range n {
		id := fmt.Sprint("c", i)
		c, ok := tab.get(id)
		if want := i >= 2; ok != want {
			t.Fatalf("get(%s): got found=%v, want %v", id, ok, want)
		}
		if ok && (c.ID != id || c.Name != fmt.Sprintf("round 2 %020000d", i)) {
			t.Errorf("get(%s): got %s %.10q, want the last round's", id, c.ID, c.Name)
		}
	}
	tab.put(&store.Client{ID: "c0", Name: "back"})
	if c, ok := tab.get("c0"); !ok || c.Name != "back" {
		t.Errorf("get(c0) after putting it back: got %v, %v", c, ok)
	}
}
