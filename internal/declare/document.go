package declare

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gatehouse/gatehouse/internal/admin"
)

// Duration is a lifetime in a document: "15m", "24h", "7d", or a number
// of seconds; written back in its shortest form ("15m", "1h30m").
type Duration time.Duration

func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func (d Duration) MarshalYAML() (any, error)    { return d.String(), nil }
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var secs int64
	if n.Tag == "!!int" && n.Decode(&secs) == nil {
		*d = Duration(time.Duration(secs) * time.Second)
		return nil
	}
	v, err := admin.ParseDuration(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: %q is not a duration (examples: 15m, 24h, 7d)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Limits are a tenant's or client's token budgets; zero means none.
type Limits struct {
	RatePerSecond int64 `yaml:"rate_per_second,omitempty" json:"rate_per_second,omitempty"`
	QuotaHour     int64 `yaml:"quota_hour,omitempty" json:"quota_hour,omitempty"`
	QuotaDay      int64 `yaml:"quota_day,omitempty" json:"quota_day,omitempty"`
	// Mode is enforce ("" too) or log-only (store.LimitLogOnly).
	Mode string `yaml:"mode,omitempty" json:"mode,omitempty"`
}

func (l *Limits) String() string {
	if l == nil || *l == (Limits{}) {
		return "none"
	}
	var parts []string
	for _, p := range []struct {
		n    int64
		unit string
	}{{l.RatePerSecond, "s"}, {l.QuotaHour, "h"}, {l.QuotaDay, "d"}} {
		if p.n != 0 {
			parts = append(parts, fmt.Sprintf("%d/%s", p.n, p.unit))
		}
	}
	if l.Mode != "" {
		parts = append(parts, l.Mode)
	}
	return strings.Join(parts, ", ")
}

// nonZero is l, or nil when it sets nothing (so documents omit it).
func nonZero(l *Limits) *Limits {
	if l == nil || *l == (Limits{}) {
		return nil
	}
	return l
}

// object is one entry of a document or one object on the server.
type object struct {
	kind kind
	spec spec
	line int // its line in the document; 0 for a server's object
}

func (o object) name() string { return o.kind.singular() + " " + o.spec.key() }

// where is " (line N)" for an object of the document.
func (o object) where() string {
	if o.line == 0 {
		return " (on the server, not in the file)"
	}
	return fmt.Sprintf(" (line %d)", o.line)
}

// File is a document read by Read: its objects, kind by kind.
type File struct {
	objects map[kind][]object
}

// Read parses a document (YAML, or JSON, which YAML reads too) and checks
// each entry: unknown fields and sections, duplicate objects and invalid
// values are errors naming the line. References between objects are
// checked by the plan, which also knows the server's objects.
func Read(r io.Reader) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, 16<<20))
	if err != nil {
		return nil, err
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return &File{objects: map[kind][]object{}}, nil
		}
		return nil, err
	}
	var extra yaml.Node
	if dec.Decode(&extra) == nil {
		return nil, fmt.Errorf("line %d: a file holds one document; put every object in the first", extra.Line)
	}
	if len(root.Content) == 0 {
		return &File{objects: map[kind][]object{}}, nil
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: a file is a mapping of sections (%s)", doc.Line, sectionNames())
	}
	out := map[kind][]object{}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		key, val := doc.Content[i], doc.Content[i+1]
		k := kindBySection(key.Value)
		if k == nil {
			return nil, fmt.Errorf("line %d: unknown section %q (a file holds: %s)", key.Line, key.Value, sectionNames())
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("line %d: section %q appears twice", key.Line, key.Value)
		}
		if val.Kind == yaml.ScalarNode && val.Tag == "!!null" {
			out[k] = nil
			continue
		}
		if val.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("line %d: section %q is a list of %ss", val.Line, key.Value, k.singular())
		}
		objs, err := k.decode(val.Content)
		if err != nil {
			return nil, err
		}
		out[k] = objs
	}
	return &File{objects: out}, nil
}

// checkKnown refuses a mapping key that t (a struct, or a slice or map of
// them) has no yaml field for, naming its line; yaml.v3's own check works
// on whole documents only, and a section is decoded on its own.
func checkKnown(n *yaml.Node, t reflect.Type, what string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		return checkKnown(n.Alias, t, what)
	}
	switch {
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		known := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := known[k.Value]
			if !ok {
				names := make([]string, 0, len(known))
				for name := range known {
					names = append(names, name)
				}
				slices.Sort(names)
				return fmt.Errorf("line %d: unknown field %q in %s (it takes: %s)", k.Line, k.Value, what, strings.Join(names, ", "))
			}
			if err := checkKnown(v, ft, what); err != nil {
				return err
			}
		}
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Map:
		for i := 1; i < len(n.Content); i += 2 {
			if err := checkKnown(n.Content[i], t.Elem(), what); err != nil {
				return err
			}
		}
	case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for _, c := range n.Content {
			if err := checkKnown(c, t.Elem(), what); err != nil {
				return err
			}
		}
	}
	return nil
}

// yamlFields maps the yaml names of t's exported fields to their types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// Document is a configuration as export writes it: the sections in the
// kinds table's order, each a list of entries.
type Document struct {
	sections []section
}

type section struct {
	name    string
	entries []spec
}

// MarshalYAML writes the sections in order.
func (d Document) MarshalYAML() (any, error) {
	root := &yaml.Node{Kind: yaml.MappingNode}
	for _, s := range d.sections {
		var val yaml.Node
		if err := val.Encode(s.entries); err != nil {
			return nil, err
		}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: s.name}, &val)
	}
	return root, nil
}

// MarshalJSON writes the sections in order.
func (d Document) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, s := range d.sections {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(s.name)
		entries, err := json.Marshal(s.entries)
		if err != nil {
			return nil, err
		}
		b.Write(name)
		b.WriteByte(':')
		b.Write(entries)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// WriteYAML writes d as YAML.
func (d Document) WriteYAML(w io.Writer) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(d); err != nil {
		return err
	}
	return enc.Close()
}

// WriteJSON writes d as indented JSON.
func (d Document) WriteJSON(w io.Writer) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}
