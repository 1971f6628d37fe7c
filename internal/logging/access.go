package logging

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Access is the middleware every gatehouse listener runs first: it gives
// each request an id (a caller's plain X-Request-Id, or a new one, echoed
// back), recovers a panic into the listener's own error answer, and writes
// one access-log line. The line holds the path only, never the query
// string (the per-service token endpoint carries credentials there) nor
// any header (they carry tokens).
type Access struct {
	Log *slog.Logger
	// Remote is the caller's address for the line; nil means the peer.
	Remote func(*http.Request) string
	// Done hears every request's status and duration (metrics); optional.
	Done func(r *http.Request, status int, elapsed time.Duration)
	// Fail answers a request whose handler panicked before writing.
	Fail func(w http.ResponseWriter)
}

// Wrap returns next behind the middleware.
func (a Access) Wrap(next http.Handler) http.Handler {
	return accessHandler{a: a, next: next}
}

type accessHandler struct {
	a    Access
	next http.Handler
}

func (h accessHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := r.Header.Get("X-Request-Id")
	if !SafeRequestID(id) {
		id = NewRequestID()
	}
	// One allocation holds what the request carries: its context, the
	// X-Request-Id header value and the status writer.
	st := &requestState{Context: r.Context(), id: id}
	st.idHeader[0] = id
	w.Header()["X-Request-Id"] = st.idHeader[:]
	st.sw.ResponseWriter = w
	defer h.finish(st, r, start)
	h.next.ServeHTTP(&st.sw, r.WithContext(st))
}

// finish recovers a panic of the handler and writes the access-log line.
func (h accessHandler) finish(st *requestState, r *http.Request, start time.Time) {
	a := h.a
	if p := recover(); p != nil {
		if p == http.ErrAbortHandler {
			panic(p)
		}
		a.Log.ErrorContext(st, "panic serving request", "panic", p, "path", LogPath(r.URL.Path))
		if st.sw.Status == 0 && a.Fail != nil {
			a.Fail(&st.sw)
		}
	}
	elapsed := time.Since(start)
	if a.Done != nil {
		a.Done(r, st.sw.Status, elapsed)
	}
	if !a.Log.Enabled(st, slog.LevelInfo) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method), slog.String("path", LogPath(r.URL.Path)),
		slog.Int("status", st.sw.Status), slog.Int64("bytes", st.sw.Bytes),
		slog.Float64("ms", float64(elapsed.Microseconds())/1000), slog.String("remote", a.remote(r)),
	}
	a.Log.LogAttrs(st, slog.LevelInfo, "request", append(attrs, st.list()...)...)
}

func (a Access) remote(r *http.Request) string {
	if a.Remote != nil {
		return a.Remote(r)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// requestState is the context Access gives a request: the request's own,
// plus its id and what handlers add to its access-log line. It answers
// both RequestID and AddAccessAttrs, where two context.WithValue layers
// would take an allocation each (and one more for the id as an any).
type requestState struct {
	context.Context
	id       string
	idHeader [1]string
	sw       StatusWriter
	mu       sync.Mutex
	attrs    []slog.Attr
}

type accessKey struct{}

func (st *requestState) Value(key any) any {
	switch key.(type) {
	case requestIDKey, accessKey:
		return st
	}
	return st.Context.Value(key)
}

func (st *requestState) list() []slog.Attr {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.attrs
}

// AddAccessAttrs adds attributes (a route, a client id) to the access-log
// line of the request whose context ctx is; outside Access it does nothing.
func AddAccessAttrs(ctx context.Context, attrs ...slog.Attr) {
	if st, ok := ctx.Value(accessKey{}).(*requestState); ok {
		st.mu.Lock()
		st.attrs = append(st.attrs, attrs...)
		st.mu.Unlock()
	}
}

// LogPath bounds a caller-chosen path in a log line.
func LogPath(p string) string {
	if len(p) > 200 {
		return p[:200] + "..."
	}
	return p
}

// StatusWriter remembers the status and size of an answer.
type StatusWriter struct {
	http.ResponseWriter
	Status int
	Bytes  int64
}

func (w *StatusWriter) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.Bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and deadlines (the
// gateway's reverse proxy streams answers).
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
