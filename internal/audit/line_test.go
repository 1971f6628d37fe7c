package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/jsonw"
	"github.com/gatehouse/gatehouse/internal/store"
)

// awkward are strings that JSON escapes, or that encoding/json changes.
var awkward = []string{
	"", "plain", `quote " and \ backslash`, "tab\tnewline\nreturn\r", "\x00\x01\x1f\x7f",
	"<script>&amp;</script>", "line\u2028para\u2029", "ünïcödé ✓ 𝄞", "bad \xff utf-8 \xc3", "https://api.example.io/{tenant}",
}

// handDetail writes its own JSON, as a token.issued detail does.
type handDetail struct {
	Name string `json:"name"`
	N    int    `json:"n"`
}

func (d handDetail) AppendJSON(b []byte) ([]byte, error) {
	b = jsonw.AppendString(jsonw.AppendKey(append(b, '{'), "name"), d.Name)
	b = fmt.Appendf(jsonw.AppendKey(b, "n"), "%d", d.N)
	return append(b, '}'), nil
}

// brokenDetail fails to write itself.
type brokenDetail struct{}

func (brokenDetail) AppendJSON(b []byte) ([]byte, error) {
	return append(b, `{"half`...), errors.New("cannot")
}

// marshalledLine is an event's spool line as Record wrote it before it
// wrote lines by hand: json.Marshal of the detail, then of the event.
func marshalledLine(id string, at time.Time, kind, actor, clientID, target string, detail any) []byte {
	d, err := json.Marshal(detail)
	if err != nil {
		d = []byte(`{}`)
	}
	line, _ := json.Marshal(store.AuditEvent{ID: id, At: at, Kind: kind, Actor: actor, ClientID: clientID, Target: target, Detail: string(d)})
	return line
}

// TestSpoolLine: the hand-written line is byte for byte what json.Marshal
// wrote, for awkward strings in every field, details of every kind and
// times of every precision; it decodes to the same event.
func TestSpoolLine(t *testing.T) {
	at := time.Date(2026, 12, 2, 9, 47, 45, 123456789, time.UTC)
	times := []time.Time{at, at.Truncate(time.Millisecond), at.Truncate(time.Second), {}, time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}
	var details []any
	for _, s := range awkward {
		details = append(details, handDetail{Name: s, N: -len(s)}, map[string]any{"before": nil, "after": map[string]string{s: s}})
	}
	details = append(details, nil, brokenDetail{}, map[string]any{"ch": make(chan int)}, []int{1, 2}, "a string", json.RawMessage(`{"raw": [1, 2]}`))
	rb := getRecordBuffer()
	defer putRecordBuffer(rb)
	check := func(id string, at time.Time, kind, actor, clientID, target string, detail any) {
		t.Helper()
		want := marshalledLine(id, at, kind, actor, clientID, target, detail)
		d := rb.encodeDetail(detail)
		got := appendEvent([]byte("prefix"), []byte(id), at, kind, actor, clientID, target, d)
		if string(got) != "prefix"+string(want) {
			t.Fatalf("kind %q actor %q client %q target %q detail %#v at %v:\ngot  %s\nwant prefix%s", kind, actor, clientID, target, detail, at, got, want)
		}
	}
	for i, s := range awkward {
		for _, detail := range details {
			check("mfg3x1abcDEF0123456789", times[i%len(times)], s, s, s, s, detail)
			check(s, at, "token.issued", s, "", s, detail)
			check("id", times[(i+1)%len(times)], s, "", s, "", detail)
		}
	}
	check("id", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "k", "a", "c", "t", nil)
	check("id", at.In(time.FixedZone("", 3600)), "k", "a", "c", "t", nil)
}

// TestRecordSpoolsTheLine: what Record spools is the line json.Marshal
// wrote, for a detail that writes itself and one that does not.
func TestRecordSpoolsTheLine(t *testing.T) {
	at := time.Date(2026, 12, 2, 9, 47, 45, 123456789, time.FixedZone("CET", 3600))
	sp := openSpool(t, t.TempDir(), Sync{})
	r := NewDurable(discardStore{}, sp, nil, quiet())
	r.now = func() time.Time { return at }
	details := []any{handDetail{Name: `a "b" <c> ü` + "\u2028", N: 7}, map[string]any{"after": []string{"x"}}, brokenDetail{}}
	for _, d := range details {
		r.Record("client.update", "admin \"x\"", "c1", "target", d)
	}
	lines := readAll(t, sp, sp.First())
	if len(lines) != len(details) {
		t.Fatalf("got %d lines, want %d", len(lines), len(details))
	}
	for i, line := range lines {
		var e store.AuditEvent
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if want := marshalledLine(e.ID, at.UTC(), "client.update", "admin \"x\"", "c1", "target", details[i]); line != string(want) {
			t.Errorf("line %d:\ngot  %s\nwant %s", i, line, want)
		}
	}
}

// TestRecordWithoutSpool: the in-memory queue gets the detail's JSON too.
func TestRecordWithoutSpool(t *testing.T) {
	st := &flakyStore{}
	r := New(st, quiet())
	r.Record("k", "a", "", "", handDetail{Name: "<x>", N: 1})
	r.Record("k", "a", "", "", map[string]int{"n": 2})
	if err := r.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{`{"name":"\u003cx\u003e","n":1}`, `{"n":2}`} {
		if got := st.events[i].Detail; got != want {
			t.Errorf("event %d: detail %s, want %s", i, got, want)
		}
	}
}

func FuzzSpoolLine(f *testing.F) {
	f.Add("token.issued", "c1", "c1", "https://api.example.io", `{"jti":"x"}`, int64(1_800_000_000), int64(123456789))
	f.Add("k\u2028", "<a>", "", "\"", "\xff", int64(-62135596800), int64(0))
	f.Fuzz(func(t *testing.T, kind, actor, clientID, target, detail string, sec, nsec int64) {
		at := time.Unix(sec, nsec).UTC()
		e := store.AuditEvent{ID: actor + kind, At: at, Kind: kind, Actor: actor, ClientID: clientID, Target: target, Detail: detail}
		want, _ := json.Marshal(e)
		if got := appendEvent(nil, []byte(e.ID), at, kind, actor, clientID, target, []byte(detail)); string(got) != string(want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	})
}

// unmarshalled is what json.Unmarshal makes of payloads, as decodeEvents
// did before it read lines by hand: the ones that decode, in order.
func unmarshalled(payloads [][]byte) []store.AuditEvent {
	out := []store.AuditEvent{}
	for _, p := range payloads {
		var e store.AuditEvent
		if json.Unmarshal(p, &e) == nil {
			out = append(out, e)
		}
	}
	return out
}

func sameEvents(a, b []store.AuditEvent) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if !x.At.Equal(y.At) || x.At.Location().String() != y.At.Location().String() {
			return false
		}
		x.At, y.At = time.Time{}, time.Time{}
		if x != y {
			return false
		}
	}
	return true
}

// oddLines are spool payloads in other forms than appendEvent's, which
// decodeEvents hands to json.Unmarshal (or skips, as it does).
var oddLines = []string{
	`{"id":"a","at":"2026-12-02T09:47:45Z","kind":"k","actor":"x","detail":"{}"}`,
	`{"id":"a", "at":"2026-12-02T09:47:45Z","kind":"k","actor":"x","detail":"{}"}`,
	`{"at":"2026-12-02T09:47:45Z","id":"a","kind":"k","actor":"x","detail":"{}"}`,
	`{"id":"a","at":"2026-12-02T09:47:45+01:00","kind":"k","actor":"x","target":"t","detail":"{}"}`,
	`{"id":"\ud83d\ude00 \ud800 \u00e9\u00E9 \/","at":"2026-12-02T09:47:45Z","kind":"k","actor":"x","detail":"{}"}`,
	"{\"id\":\"bad \xff utf-8\",\"at\":\"2026-12-02T09:47:45Z\",\"kind\":\"k\",\"actor\":\"x\",\"detail\":\"{}\"}",
	`{"id":"a","at":"2026-12-02T09:47:45Z","kind":"k","actor":"x","detail":"{}","extra":1}`,
	`{"id":"a","at":"2026-12-02T09:47:45Z","kind":"k","actor":"x","ID":"b","detail":"{}"}`,
	`{"id":"a","at":"2026-12-02T09:47:45Z","kind":"k","actor":"x","detail":null}`,
	`{"id":"a","at":null,"kind":"k","actor":"x","detail":"{}"}`,
	`{"id":"a","at":"yesterday","kind":"k","actor":"x","detail":"{}"}`,
	`{"id":"a","at":"2026-12-02T09:47:45Z","kind":"k","actor":"x","detail":"{}"} `,
	`{"id":"a","at":"2026-12-02T09:47:45Z","kind":"k","actor":"x","detail":"{}"}}`,
	`{"id":"a","at":"2026-12-02T09:47:45Z","kind":"k","actor":"x","client_id":"","target":"","detail":"\u0000\t"}`,
	`{"id":"a","at":"2026-12-02T09:47:45Z","kind":"k","actor":"x","detail":"unterminated}`,
	`{"good":true}`, `[]`, ``, `{"id":"a","at":"2026-12-02T09:47:45Z","kind":"k","actor":"x","detail":"\q"}`,
}

// TestDecodeEventsLikeJSON: lines as Record writes them, and lines in
// other forms, decode to what json.Unmarshal makes of them, one by one
// and in a batch.
func TestDecodeEventsLikeJSON(t *testing.T) {
	var payloads [][]byte
	at := time.Date(2026, 12, 2, 9, 47, 45, 123456789, time.UTC)
	rb := getRecordBuffer()
	defer putRecordBuffer(rb)
	for i, s := range awkward {
		for _, detail := range []any{handDetail{Name: s}, map[string]string{s: s}} {
			d := rb.encodeDetail(detail)
			line := appendEvent(nil, []byte(s+"id"), at.Add(time.Duration(i)*time.Millisecond), s, s, s, s, d)
			if !parseEvent(line, new(strings.Builder), &eventSpans{}) && utf8.ValidString(s) {
				t.Errorf("a line Record writes is not read by hand: %s", line)
			}
			payloads = append(payloads, line)
			payloads = append(payloads, appendEvent(nil, []byte("id"), at, "k", "", "", s, d))
		}
	}
	for _, s := range oddLines {
		payloads = append(payloads, []byte(s))
	}
	for _, p := range payloads {
		if got, want := decodeEvents([][]byte{p}, quiet()), unmarshalled([][]byte{p}); !sameEvents(got, want) {
			t.Errorf("%s:\ngot  %+v\nwant %+v", p, got, want)
		}
	}
	if got, want := decodeEvents(payloads, quiet()), unmarshalled(payloads); !sameEvents(got, want) {
		t.Errorf("the batch: got %d events, want %d, or they differ", len(got), len(want))
	}
}

// TestOldSpoolShips: a segment as the code before hand-written lines wrote
// it (testdata/v1.spool: token.issued and admin events) is shipped to the
// store, read by hand, as json.Unmarshal reads it.
func TestOldSpoolShips(t *testing.T) {
	data, err := os.ReadFile("testdata/v1.spool")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, segName(1)), data, 0o600); err != nil {
		t.Fatal(err)
	}
	st := &flakyStore{}
	sp := openSpool(t, dir, Sync{})
	r := NewDurable(st, sp, nil, quiet())
	if err := r.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	var payloads [][]byte
	for _, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		p := line[9:]
		if !parseEvent(p, new(strings.Builder), &eventSpans{}) {
			t.Errorf("not read by hand: %s", p)
		}
		payloads = append(payloads, p)
	}
	want := unmarshalled(payloads)
	if len(want) != 4 || !sameEvents(st.events, want) {
		t.Fatalf("shipped:\n%+v\nwant:\n%+v", st.events, want)
	}
	if e := st.events[1]; e.ID != "mfx1k2abcDEFghiJKL02" || e.Kind != store.AuditTokenIssued || e.Target != "https://delivery.example.io/acme" ||
		!strings.Contains(e.Detail, `"jti":"j\u003c2\u003e"`) || !strings.Contains(e.Detail, `"sub":"ext \"q\" \u2028"`) {
		t.Errorf("second event: got %+v", e)
	}
}

func FuzzDecodeEvents(f *testing.F) {
	data, err := os.ReadFile("testdata/v1.spool")
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		if len(line) > 9 {
			f.Add(line[9:])
		}
	}
	for _, s := range oddLines {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		if got, want := decodeEvents([][]byte{p}, quiet()), unmarshalled([][]byte{p}); !sameEvents(got, want) {
			t.Errorf("%q:\ngot  %+v\nwant %+v", p, got, want)
		}
	})
}
