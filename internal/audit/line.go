package audit

import (
	"encoding/json"
	"sync"
	"time"

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
