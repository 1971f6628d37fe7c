package declare

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Options say how Apply treats the server.
type Options struct {
	// DryRun plans and reports, and changes nothing.
	DryRun bool
	// Prune deletes what the file does not hold (never built-in APIs, the
	// bootstrap admin client, nor Self).
	Prune bool
	// Self is the client id of the admin client making the changes.
	Self string
}

// Change is one create, update or delete, with the fields an update
// changes and what a create printed once (an api_key, a secret).
type Change struct {
	Action  string        `json:"action"`
	Kind    string        `json:"kind"`
	Key     string        `json:"key"`
	Fields  []FieldChange `json:"fields,omitempty"`
	Results []Result      `json:"results,omitempty"`

	want, have object
}

// FieldChange is one field an update changes.
type FieldChange struct {
	Name string `json:"name"`
	From string `json:"from"`
	To   string `json:"to"`
	// Note says how the change is made where that is not in place (a
	// trust's rule is deleted and added again).
	Note string `json:"note,omitempty"`
}

// Kept is an object on the server that the file does not hold, left as
// it is, and why.
type Kept struct {
	Kind   string `json:"kind"`
	Key    string `json:"key"`
	Reason string `json:"reason"`
}

// Report is what Apply did or, on a dry run, would do.
type Report struct {
	DryRun  bool     `json:"dry_run"`
	Changes []Change `json:"changes"`
	Kept    []Kept   `json:"kept,omitempty"`
	// Applied counts the changes made (all of them unless one failed).
	Applied int `json:"applied"`
}

// Apply makes the server hold what f holds. The whole plan is
// checked first (references, fields that cannot change, imported secrets),
// so a bad file changes nothing; then the changes run in order: creates and
// updates kind by kind as the table lists them, deletes in reverse. A
// change the server refuses stops the run: the report counts what was
// applied before it, and applying again resumes.
func Apply(ctx context.Context, a Admin, f *File, o Options) (*Report, error) {
	doc := f.objects
	if o.Prune && countObjects(doc) == 0 {
		return nil, errors.New("the file holds no objects: with --prune that would delete every API and client; refusing")
	}
	have := map[kind][]object{}
	for _, k := range kinds {
		objs, err := k.list(ctx, a)
		if err != nil {
			return nil, err
		}
		have[k] = objs
	}
	r, err := plan(doc, have, o)
	if err != nil {
		return nil, err
	}
	for i, c := range r.Changes {
		if c.Action == "create" {
			if r.Changes[i].want, err = c.want.kind.prepare(c.want); err != nil {
				return nil, fmt.Errorf("%s%s: %w", c.want.name(), c.want.where(), err)
			}
		}
	}
	if o.DryRun {
		return r, nil
	}
	for i := range r.Changes {
		c := &r.Changes[i]
		if err := run(ctx, a, c); err != nil {
			return r, fmt.Errorf("%s %s %s: %w\n(%d of %d changes were applied before it; fix the cause and apply again)",
				c.Action, c.Kind, c.Key, err, r.Applied, len(r.Changes))
		}
		r.Applied++
	}
	return r, nil
}

func run(ctx context.Context, a Admin, c *Change) error {
	var err error
	switch c.Action {
	case "create":
		c.Results, err = c.want.kind.create(ctx, a, c.want)
	case "update":
		c.Results, err = c.want.kind.update(ctx, a, c.want, c.have)
	case "delete":
		err = c.have.kind.remove(ctx, a, c.have)
	}
	return err
}

func countObjects(doc map[kind][]object) int {
	n := 0
	for _, objs := range doc {
		n += len(objs)
	}
	return n
}

// plan compares the file with the server's objects: what to create,
// update and delete, what is kept, and whether every reference holds in
// the state the changes leave.
func plan(want, have map[kind][]object, o Options) (*Report, error) {
	r := &Report{DryRun: o.DryRun, Changes: []Change{}}
	final := map[string]object{} // by kind and key: the state after the changes
	var deletes [][]Change
	var errs []error
	for _, k := range kinds {
		var changes []Change
		onServer := map[string]object{}
		for _, h := range have[k] {
			onServer[h.spec.key()] = h
		}
		for _, w := range want[k] {
			final[id(k.singular(), w.spec.key())] = w
			if err := k.spares(w, o.Self); err != nil {
				errs = append(errs, fmt.Errorf("%s%s: %w", w.name(), w.where(), err))
			}
			h, ok := onServer[w.spec.key()]
			if !ok {
				changes = append(changes, Change{Action: "create", Kind: k.singular(), Key: w.spec.key(), want: w})
				continue
			}
			fields, err := diff(w, h)
			if err != nil {
				errs = append(errs, err)
			} else if len(fields) > 0 {
				changes = append(changes, Change{Action: "update", Kind: k.singular(), Key: w.spec.key(), Fields: fields, want: w, have: h})
			}
			delete(onServer, w.spec.key())
		}
		changes, err := createdFirst(k, changes)
		if err != nil {
			errs = append(errs, err)
		}
		r.Changes = append(r.Changes, changes...)
		var del []Change
		for _, key := range sortedKeys(onServer) {
			h := onServer[key]
			if !k.managed(h) {
				final[id(k.singular(), key)] = h
				continue
			}
			reason := k.protect(h, o.Self)
			if o.Prune && reason == "" {
				del = append(del, Change{Action: "delete", Kind: k.singular(), Key: key, have: h})
				continue
			}
			if reason == "" {
				reason = "not in the file; apply --prune deletes it"
			}
			final[id(k.singular(), key)] = h
			r.Kept = append(r.Kept, Kept{Kind: k.singular(), Key: key, Reason: reason})
		}
		deletes = append(deletes, del)
	}
	for i := len(deletes) - 1; i >= 0; i-- {
		r.Changes = append(r.Changes, deletes[i]...)
	}
	errs = append(errs, checkRefs(final, o.Prune)...)
	return r, errors.Join(errs...)
}

// createdFirst orders one kind's creates and updates so that each comes
// after the creates of the objects of its own kind that it names (an API
// whose accept_exchange_from names an API the file adds), keeping the
// file's order otherwise. Objects that name each other, none of them on
// the server yet, cannot be created in any order: that is an error.
func createdFirst(k kind, changes []Change) ([]Change, error) {
	pending := map[string]bool{}
	for _, c := range changes {
		if c.Action == "create" {
			pending[c.Key] = true
		}
	}
	ready := func(c Change) bool {
		for _, rf := range c.want.spec.refs() {
			if rf.kind == k.singular() && rf.key != c.Key && pending[rf.key] {
				return false
			}
		}
		return true
	}
	out := make([]Change, 0, len(changes))
	for len(changes) > 0 {
		var rest []Change
		for _, c := range changes {
			if !ready(c) {
				rest = append(rest, c)
				continue
			}
			out = append(out, c)
			delete(pending, c.Key)
		}
		if len(rest) == len(changes) {
			keys := make([]string, len(rest))
			for i, c := range rest {
				keys[i] = c.want.name() + c.want.where()
			}
			return append(out, rest...), fmt.Errorf("%s name each other and none is on the server yet, so none can be created first: "+
				"apply once with one of them not naming the others, then again with the full file", strings.Join(keys, ", "))
		}
		changes = rest
	}
	return out, nil
}

func id(kind, key string) string { return kind + "\x00" + key }

// diff lists the fields in which w (the file's) differs from h (the
// server's), matched by name (a trust's rules are a field each, so either
// side may have fields the other lacks: those show as added or removed);
// a difference in a field that cannot change is an error.
func diff(w, h object) ([]FieldChange, error) {
	wf, hf := w.spec.fields(), h.spec.fields()
	onServer := map[string]field{}
	for _, f := range hf {
		onServer[f.name] = f
	}
	var out []FieldChange
	for _, f := range wf {
		old := onServer[f.name]
		delete(onServer, f.name)
		if f.value == old.value {
			continue
		}
		if f.fixed != "" {
			return nil, fmt.Errorf("line %d: %s: %s is %q on the server and %q in the file: %s",
				w.line, w.name(), f.name, old.value, f.value, f.fixed)
		}
		c := FieldChange{Name: f.name, From: old.value, To: f.value}
		if old.value != "" && f.value != "" {
			c.Note = f.replaced
		}
		out = append(out, c)
	}
	for _, f := range hf { // on the server only: removed
		if _, ok := onServer[f.name]; ok {
			out = append(out, FieldChange{Name: f.name, From: f.value})
		}
	}
	return out, nil
}

// checkRefs checks every reference of the state the changes leave, the
// file's objects first, in the order of the kinds table and of the file.
func checkRefs(final map[string]object, prune bool) []error {
	objs := make([]object, 0, len(final))
	for _, o := range final {
		objs = append(objs, o)
	}
	order := func(k kind) int { return slices.Index(kinds, k) }
	slices.SortFunc(objs, func(a, b object) int {
		return cmp.Or(cmp.Compare(order(a.kind), order(b.kind)), cmp.Compare(a.line, b.line), cmp.Compare(a.spec.key(), b.spec.key()))
	})
	missing := "which neither the file nor the server has"
	if prune {
		missing = "which the file does not hold (and --prune would delete it from the server)"
	}
	var errs []error
	for _, o := range objs {
		for _, rf := range o.spec.refs() {
			target, ok := final[id(rf.kind, rf.key)]
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("%s%s: %s names %s %s, %s", o.name(), o.where(), rf.field, rf.kind, rf.key, missing))
			case rf.check != nil:
				if err := rf.check(target.spec); err != nil {
					errs = append(errs, fmt.Errorf("%s%s: %w", o.name(), o.where(), err))
				}
			}
		}
	}
	return errs
}
