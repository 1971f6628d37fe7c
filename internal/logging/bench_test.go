package logging

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// discardWriter is a ResponseWriter that keeps nothing, so that
// BenchmarkAccess measures the middleware rather than a recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkAccess measures the access middleware around a handler that
// does nothing, with the access line written (info) and below the level
// (warn).
func BenchmarkAccess(b *testing.B) {
	for _, level := range []string{"info", "warn"} {
		b.Run(level, func(b *testing.B) {
			log, err := New(io.Discard, level, "json")
			if err != nil {
				b.Fatal(err)
			}
			h := Access{
				Log:  log,
				Done: func(*http.Request, int, time.Duration) {},
			}.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusOK)
			}))
			r := httptest.NewRequest("POST", "/oauth/token", nil)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, r)
			}
		})
	}
}
