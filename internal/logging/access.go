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
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !SafeRequestID(id) {
			id = NewRequestID()
		}
		fields := &accessFields{}
		ctx := context.WithValue(WithRequestID(r.Context(), id), accessKey{}, fields)
		w.Header().Set("X-Request-Id", id)
		sw := &StatusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				a.Log.ErrorContext(ctx, "panic serving request", "panic", p, "path", LogPath(r.URL.Path))
				if sw.Status == 0 && a.Fail != nil {
					a.Fail(sw)
				}
			}
			elapsed := time.Since(start)
			if a.Done != nil {
				a.Done(r, sw.Status, elapsed)
			}
			attrs := []slog.Attr{
				slog.String("method", r.Method), slog.String("path", LogPath(r.URL.Path)),
				slog.Int("status", sw.Status), slog.Int64("bytes", sw.Bytes),
				slog.Float64("ms", float64(elapsed.Microseconds())/1000), slog.String("remote", a.remote(r)),
			}
			a.Log.LogAttrs(ctx, slog.LevelInfo, "request", append(attrs, fields.list()...)...)
		}()
		next.ServeHTTP(sw, r.WithContext(ctx))
	})
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

type accessKey struct{}

// accessFields are what handlers add to their request's access-log line.
type accessFields struct {
	mu    sync.Mutex
	attrs []slog.Attr
}

func (f *accessFields) list() []slog.Attr {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attrs
}

// AddAccessAttrs adds attributes (a route, a client id) to the access-log
// line of the request whose context ctx is; outside Access it does nothing.
func AddAccessAttrs(ctx context.Context, attrs ...slog.Attr) {
	if f, ok := ctx.Value(accessKey{}).(*accessFields); ok {
		f.mu.Lock()
		f.attrs = append(f.attrs, attrs...)
		f.mu.Unlock()
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
