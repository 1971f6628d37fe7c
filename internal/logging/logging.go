// Package logging builds gatehouse's slog logger and carries the request id
// in the context so every line a request logs names it. It never logs
// request bodies, query strings or headers: those hold secrets and tokens.
package logging

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"

	"github.com/gatehouse/gatehouse/internal/secret"
)

type requestIDKey struct{}

// WithRequestID returns ctx carrying id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id in ctx, or "".
func RequestID(ctx context.Context) string {
	switch v := ctx.Value(requestIDKey{}).(type) {
	case string:
		return v
	case *requestState:
		return v.id
	}
	return ""
}

// NewRequestID returns a fresh random request id.
func NewRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// SafeRequestID accepts a caller's X-Request-Id only when it is short and
// plain, so it cannot forge log lines.
func SafeRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// contextHandler adds request_id from the context to every record.
type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(as)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}

// New returns a JSON (or text) logger at level writing to w.
func New(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv, ReplaceAttr: redactAttr}
	var h slog.Handler
	switch strings.ToLower(format) {
	case "", "json":
		h = slog.NewJSONHandler(w, opts)
	case "text":
		h = slog.NewTextHandler(w, opts)
	default:
		return nil, fmt.Errorf("log format %q: use json or text", format)
	}
	return slog.New(contextHandler{h}), nil
}

// secretRun is what a gatehouse client secret looks like (package secret:
// the prefix, then base64url). A secret pasted into the wrong field, a
// client_id or a URL, must not reach a log line whatever field carried it.
var secretRun = regexp.MustCompile(regexp.QuoteMeta(secret.Prefix) + `[A-Za-z0-9_-]{8,}`)

// Redact replaces every secret-looking run in s.
func Redact(s string) string {
	if !strings.Contains(s, secret.Prefix) {
		return s
	}
	return secretRun.ReplaceAllString(s, secret.Prefix+"[redacted]")
}

// redactAttr is the logger's last word on every attribute and message.
func redactAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		if r := Redact(a.Value.String()); r != a.Value.String() {
			a.Value = slog.StringValue(r)
		}
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			if r := Redact(err.Error()); r != err.Error() {
				a.Value = slog.StringValue(r)
			}
		}
	}
	return a
}
