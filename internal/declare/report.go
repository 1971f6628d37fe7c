package declare

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
)

// WriteText prints the report as a diff: "+" create, "~" update (with
// each field's old and new value), "-" delete; what a create printed once;
// what was kept; and a summary line.
func (r *Report) WriteText(w io.Writer) error {
	marks := map[string]string{"create": "+", "update": "~", "delete": "-"}
	var b strings.Builder
	counts := map[string]int{}
	for _, c := range r.Changes {
		counts[c.Action]++
		fmt.Fprintf(&b, "%s %s %s\n", marks[c.Action], c.Kind, c.Key)
		for _, f := range c.Fields {
			note := ""
			if f.Note != "" {
				note = "   (" + f.Note + ")"
			}
			fmt.Fprintf(&b, "    %s: %s -> %s%s\n", f.Name, orNone(f.From), orNone(f.To), note)
		}
		for _, res := range c.Results {
			note := ""
			if res.Name == "client_secret" {
				note = "   (shown once: store it now)"
			}
			fmt.Fprintf(&b, "    %s: %s%s\n", res.Name, res.Value, note)
		}
	}
	for _, k := range r.Kept {
		fmt.Fprintf(&b, "kept: %s %s (%s)\n", k.Kind, k.Key, k.Reason)
	}
	tally := fmt.Sprintf("%d to create, %d to update, %d to delete", counts["create"], counts["update"], counts["delete"])
	switch {
	case len(r.Changes) == 0 && len(r.Kept) > 0:
		b.WriteString("no changes: the server holds what the file holds, and keeps what is listed above\n")
	case len(r.Changes) == 0:
		b.WriteString("no changes: the server matches the file\n")
	case r.DryRun:
		fmt.Fprintf(&b, "dry run: %s; nothing was changed\n", tally)
	case r.Applied < len(r.Changes):
		fmt.Fprintf(&b, "stopped: %d of %d changes applied (%s)\n", r.Applied, len(r.Changes), tally)
	default:
		fmt.Fprintf(&b, "applied: %d created, %d updated, %d deleted\n", counts["create"], counts["update"], counts["delete"])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Export reads the server's configuration as a document: every object a
// file may hold (not the built-in APIs, nor the bootstrap admin client),
// sorted by key, never a secret.
func Export(ctx context.Context, a Admin) (Document, error) {
	var d Document
	for _, k := range kinds {
		objs, err := k.list(ctx, a)
		if err != nil {
			return d, err
		}
		slices.SortFunc(objs, func(x, y object) int { return strings.Compare(x.spec.key(), y.spec.key()) })
		entries := []spec{}
		for _, o := range objs {
			if !k.managed(o) {
				continue
			}
			if b, ok := o.spec.(briefer); ok {
				o.spec = b.brief()
			}
			entries = append(entries, o.spec)
		}
		d.sections = append(d.sections, section{name: k.section(), entries: entries})
	}
	return d, nil
}

// briefer is a spec that export writes without fields that hold their
// default (a name that is the id), which apply fills in again.
type briefer interface{ brief() spec }

func (t tenantSpec) brief() spec {
	if t.Name == t.ID {
		t.Name = ""
	}
	return t
}

func (a apiSpec) brief() spec {
	if a.Name == a.Audience {
		a.Name = ""
	}
	return a
}
