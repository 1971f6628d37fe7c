package declare

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// Admin is the admin API as apply and export call it (adminclient.Client).
type Admin interface {
	Do(ctx context.Context, method, path string, in, out any) error
}

// spec is one object in its document form.
type spec interface {
	// key names the object among its kind: a tenant id, "tenant/env", an
	// audience, a client id.
	key() string
	// fields are what apply compares and shows, in a stable order.
	fields() []field
	// refs are the objects it names, which must exist once applied.
	refs() []ref
}

// field is one compared value, as canonical text: equal values are
// equal text. fixed, when set, says why it cannot change once created;
// replaced, when set, says how a change from one value to another is
// made where it is not made in place.
type field struct {
	name, value, fixed, replaced string
}

// ref is an object that another names: kind (singular) and key, the field
// that names it, and an optional check of the object found (the scopes a
// grant names must be the API's).
type ref struct {
	kind, key, field string
	check            func(target spec) error
}

// Result is what a change printed once: an environment's api_key, a new
// client's secret.
type Result struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// kind is one sort of object. The kinds table lists them in the order
// they are created; deletions run in the reverse order.
type kind interface {
	singular() string
	section() string
	decode(items []*yaml.Node) ([]object, error)
	list(ctx context.Context, a Admin) ([]object, error)
	// managed is false for a server's objects that a document never holds
	// (built-in APIs, the bootstrap admin client): not exported, not pruned.
	managed(o object) bool
	// protect says why a managed object is never pruned ("" when it may be).
	protect(o object, self string) string
	// spares refuses a file's object that would lock out the admin client
	// self, which the rest of the run needs.
	spares(o object, self string) error
	// prepare readies a document's object to be created (reads an
	// imported secret), before anything changes.
	prepare(o object) (object, error)
	create(ctx context.Context, a Admin, want object) ([]Result, error)
	update(ctx context.Context, a Admin, want, have object) ([]Result, error)
	remove(ctx context.Context, a Admin, have object) error
}

// kindOf makes a kind from functions over its document type T.
type kindOf[T spec] struct {
	one, many string
	// check validates a document's entry and returns it in the form the
	// server keeps (defaults filled in), so that comparing is exact.
	check   func(T) (T, error)
	list    func(ctx context.Context, a Admin) ([]T, error)
	managed func(T) bool // nil: every object is
	// protect says why an object is never pruned; remove nil means the
	// kind cannot be deleted at all.
	protect func(have T, self string) string
	spares  func(want T, self string) error // nil: no object can lock self out
	prepare func(T) (T, error)              // nil: nothing to ready
	create  func(ctx context.Context, a Admin, want T) ([]Result, error)
	update  func(ctx context.Context, a Admin, want, have T) ([]Result, error)
	remove  func(ctx context.Context, a Admin, have T) error
}

// kindAdapter is a kindOf seen as a kind.
type kindAdapter[T spec] struct{ k *kindOf[T] }

func (a kindAdapter[T]) singular() string { return a.k.one }
func (a kindAdapter[T]) section() string  { return a.k.many }

func (a kindAdapter[T]) decode(items []*yaml.Node) ([]object, error) {
	what := article(a.k.one)
	seen := map[string]int{}
	var out []object
	for _, n := range items {
		if err := checkKnown(n, reflect.TypeFor[T](), what); err != nil {
			return nil, err
		}
		var v T
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %s: %s", n.Line, what, strings.TrimPrefix(err.Error(), "yaml: "))
		}
		v, err := a.k.check(v)
		if err != nil {
			return nil, fmt.Errorf("line %d: %s %s: %w", n.Line, a.k.one, v.key(), err)
		}
		if first, dup := seen[v.key()]; dup {
			return nil, fmt.Errorf("line %d: %s %s is already in the file at line %d", n.Line, a.k.one, v.key(), first)
		}
		seen[v.key()] = n.Line
		out = append(out, object{kind: a, spec: v, line: n.Line})
	}
	return out, nil
}

func (a kindAdapter[T]) list(ctx context.Context, ad Admin) ([]object, error) {
	vs, err := a.k.list(ctx, ad)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", a.k.many, err)
	}
	out := make([]object, len(vs))
	for i, v := range vs {
		out[i] = object{kind: a, spec: v}
	}
	return out, nil
}

func (a kindAdapter[T]) managed(o object) bool {
	return a.k.managed == nil || a.k.managed(o.spec.(T))
}

func (a kindAdapter[T]) protect(o object, self string) string {
	if a.k.remove == nil {
		return "gatehouse cannot delete " + a.k.many + " yet"
	}
	if a.k.protect == nil {
		return ""
	}
	return a.k.protect(o.spec.(T), self)
}

func (a kindAdapter[T]) spares(o object, self string) error {
	if a.k.spares == nil {
		return nil
	}
	return a.k.spares(o.spec.(T), self)
}

func (a kindAdapter[T]) prepare(o object) (object, error) {
	if a.k.prepare == nil {
		return o, nil
	}
	v, err := a.k.prepare(o.spec.(T))
	o.spec = v
	return o, err
}

func (a kindAdapter[T]) create(ctx context.Context, ad Admin, want object) ([]Result, error) {
	return a.k.create(ctx, ad, want.spec.(T))
}

func (a kindAdapter[T]) update(ctx context.Context, ad Admin, want, have object) ([]Result, error) {
	if a.k.update == nil { // a kind without fields never differs
		return nil, nil
	}
	return a.k.update(ctx, ad, want.spec.(T), have.spec.(T))
}

func (a kindAdapter[T]) remove(ctx context.Context, ad Admin, have object) error {
	return a.k.remove(ctx, ad, have.spec.(T))
}

func article(word string) string {
	if strings.ContainsRune("aeiou", rune(word[0])) {
		return "an " + word
	}
	return "a " + word
}

// kinds is the table of object kinds, in the order they are created: a
// kind comes after every kind it names (a trust's rules name clients), so
// pruning deletes it before them.
var kinds = []kind{
	kindAdapter[tenantSpec]{tenants},
	kindAdapter[environmentSpec]{environments},
	kindAdapter[apiSpec]{apis},
	kindAdapter[clientSpec]{clients},
	kindAdapter[trustSpec]{trusts},
}

func kindBySection(name string) kind {
	for _, k := range kinds {
		if k.section() == name {
			return k
		}
	}
	return nil
}

func sectionNames() string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.section()
	}
	return strings.Join(names, ", ")
}
