package audit

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/jsonw"
	"github.com/gatehouse/gatehouse/internal/store"
)

// An event's spool line is the JSON of its store.AuditEvent, the detail
// JSON held in it as a string. Record writes it by hand into a pooled
// buffer, byte for byte what json.Marshal wrote before (TestSpoolLine and
// FuzzSpoolLine compare them), so spools of either kind read the same.

// DetailAppender is a detail that writes its own JSON, without reflection:
// the bytes json.Marshal would write for it (a test beside each one must
// compare them). An error means "no detail": Record stores {} as it does
// when json.Marshal fails. Details of other types go through encoding/json.
type DetailAppender interface {
	AppendJSON(b []byte) ([]byte, error)
}

// recordBuffer is one Record's scratch space: the detail's JSON, an
// encoder writing into it for details that are not DetailAppenders, and
// the spool line.
type recordBuffer struct {
	detail bytesWriter
	enc    *json.Encoder
	line   []byte
}

// bytesWriter appends what it is given to b.
type bytesWriter struct{ b []byte }

func (w *bytesWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

var recordBuffers = sync.Pool{New: func() any {
	rb := &recordBuffer{detail: bytesWriter{b: make([]byte, 0, 512)}, line: make([]byte, 0, 1024)}
	rb.enc = json.NewEncoder(&rb.detail)
	return rb
}}

// recordBufferMax is the largest buffer put back in the pool: a large
// admin event should not pin its memory.
const recordBufferMax = 64 << 10

func getRecordBuffer() *recordBuffer { return recordBuffers.Get().(*recordBuffer) }

func putRecordBuffer(rb *recordBuffer) {
	if cap(rb.detail.b) > recordBufferMax || cap(rb.line) > recordBufferMax {
		return
	}
	recordBuffers.Put(rb)
}

// encodeDetail writes detail's JSON into rb.detail.b: its own, for a
// DetailAppender, or json.Marshal's (an Encoder writes the same bytes and a
// newline, without Marshal's copy); {} when it does not encode.
func (rb *recordBuffer) encodeDetail(detail any) []byte {
	var err error
	if a, ok := detail.(DetailAppender); ok {
		rb.detail.b, err = a.AppendJSON(rb.detail.b[:0])
	} else {
		rb.detail.b = rb.detail.b[:0]
		if err = rb.enc.Encode(detail); err == nil {
			rb.detail.b = rb.detail.b[:len(rb.detail.b)-1] // Encode's newline
		}
	}
	if err != nil {
		rb.detail.b = append(rb.detail.b[:0], "{}"...)
	}
	return rb.detail.b
}

// appendEvent appends the spool line of an event (without its framing),
// as json.Marshal writes a store.AuditEvent.
func appendEvent(b []byte, id []byte, at time.Time, kind, actor, clientID, target string, detail []byte) []byte {
	start := len(b)
	b = append(b, '{')
	b = jsonw.AppendString(jsonw.AppendKey(b, "id"), id)
	b = append(jsonw.AppendKey(b, "at"), '"')
	withAt, err := at.AppendText(b)
	if err != nil {
		// A year outside [0,9999]: encoding/json says what it always said.
		line, _ := json.Marshal(store.AuditEvent{ID: string(id), At: at, Kind: kind, Actor: actor,
			ClientID: clientID, Target: target, Detail: string(detail)})
		return append(b[:start], line...)
	}
	b = append(withAt, '"')
	b = jsonw.AppendString(jsonw.AppendKey(b, "kind"), kind)
	b = jsonw.AppendString(jsonw.AppendKey(b, "actor"), actor)
	if clientID != "" {
		b = jsonw.AppendString(jsonw.AppendKey(b, "client_id"), clientID)
	}
	if target != "" {
		b = jsonw.AppendString(jsonw.AppendKey(b, "target"), target)
	}
	b = jsonw.AppendString(jsonw.AppendKey(b, "detail"), detail)
	return append(b, '}')
}

// Reading lines back: decodeEvents takes the lines appendEvent writes
// (keys in that order, no spaces, strings whose escapes are those
// jsonw.AppendString writes) by hand, and hands anything else to
// json.Unmarshal, so what it returns is what json.Unmarshal would.
// FuzzDecodeEvents compares them.

// eventSpans is where one event's strings lie in a batch's text.
type eventSpans struct {
	at time.Time
	// id, kind, actor, client_id, target, detail: [start, end) in the text.
	str [6][2]int
}

// decodeEvents reads spooled events; one that does not decode (which its
// checksum makes a bug, not damage) is logged and left out. The strings of
// the events read by hand share one allocation.
func decodeEvents(payloads [][]byte, log *slog.Logger) []store.AuditEvent {
	events := make([]store.AuditEvent, len(payloads))
	spans := make([]eventSpans, len(payloads))
	hand := make([]bool, len(payloads))
	var text strings.Builder
	size := 0
	for _, p := range payloads {
		size += len(p) // the strings, unescaped, take less
	}
	text.Grow(size)
	n := 0
	for _, p := range payloads {
		if parseEvent(p, &text, &spans[n]) {
			hand[n] = true
			n++
			continue
		}
		if err := json.Unmarshal(p, &events[n]); err != nil {
			log.Error("audit spool: an event does not decode; skipped", "err", err)
			events[n] = store.AuditEvent{}
			continue
		}
		n++
	}
	all := text.String()
	for i := range n {
		if !hand[i] {
			continue
		}
		s := &spans[i].str
		events[i] = store.AuditEvent{
			ID: all[s[0][0]:s[0][1]], At: spans[i].at, Kind: all[s[1][0]:s[1][1]], Actor: all[s[2][0]:s[2][1]],
			ClientID: all[s[3][0]:s[3][1]], Target: all[s[4][0]:s[4][1]], Detail: all[s[5][0]:s[5][1]],
		}
	}
	return events[:n:n]
}

// parseEvent reads p if it has appendEvent's form, writing its strings to
// text and noting where they lie in sp. When it does not (false), what it
// wrote to text is left unused.
func parseEvent(p []byte, text *strings.Builder, sp *eventSpans) bool {
	rest, ok := bytes.CutPrefix(p, []byte(`{"id":`))
	if !ok {
		return false
	}
	if rest, ok = parseString(rest, text, &sp.str[0]); !ok {
		return false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"at":"`)); !ok {
		return false
	}
	end := bytes.IndexByte(rest, '"')
	if end < 0 || bytes.IndexByte(rest[:end], '\\') >= 0 {
		return false
	}
	// The same call, on the same bytes (quotes included), as json.Unmarshal makes.
	if sp.at = (time.Time{}); sp.at.UnmarshalJSON(p[len(p)-len(rest)-1:len(p)-len(rest)+end+1]) != nil {
		return false
	}
	rest = rest[end+1:]
	for i, key := range [...]string{`,"kind":`, `,"actor":`, `,"client_id":`, `,"target":`, `,"detail":`} {
		field := &sp.str[i+1]
		var found bool
		if rest, found = bytes.CutPrefix(rest, []byte(key)); !found {
			if i == 2 || i == 3 { // omitted when empty
				*field = [2]int{}
				continue
			}
			return false
		}
		if rest, ok = parseString(rest, text, field); !ok {
			return false
		}
	}
	return string(rest) == "}"
}

// parseString reads the JSON string at the start of p into text, noting
// its span; it takes only valid UTF-8 and the escapes other than
// surrogates (json.Unmarshal's rules for the rest are left to it).
func parseString(p []byte, text *strings.Builder, span *[2]int) (rest []byte, ok bool) {
	if len(p) == 0 || p[0] != '"' {
		return p, false
	}
	span[0] = text.Len()
	i, from := 1, 1
	for i < len(p) {
		c := p[i]
		switch {
		case c == '"':
			text.Write(p[from:i])
			span[1] = text.Len()
			return p[i+1:], true
		case c < 0x20:
			return p, false
		case c == '\\':
			text.Write(p[from:i])
			size := unescape(p[i:], text)
			if size == 0 {
				return p, false
			}
			i += size
			from = i
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(p[i:])
			if r == utf8.RuneError && size == 1 {
				return p, false
			}
			i += size
		}
	}
	return p, false
}

// unescape writes what the escape at the start of p stands for; it returns
// the escape's length, 0 for one parseString leaves to json.Unmarshal.
func unescape(p []byte, text *strings.Builder) int {
	if len(p) < 2 {
		return 0
	}
	switch c := p[1]; c {
	case '"', '\\', '/':
		text.WriteByte(c)
	case 'b':
		text.WriteByte('\b')
	case 'f':
		text.WriteByte('\f')
	case 'n':
		text.WriteByte('\n')
	case 'r':
		text.WriteByte('\r')
	case 't':
		text.WriteByte('\t')
	case 'u':
		if len(p) < 6 {
			return 0
		}
		v, err := strconv.ParseUint(string(p[2:6]), 16, 16)
		if err != nil || utf16.IsSurrogate(rune(v)) {
			return 0
		}
		text.WriteRune(rune(v))
		return 6
	default:
		return 0
	}
	return 2
}
