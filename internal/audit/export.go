package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// exportBatch bounds the events of one delivery to the sink.
const exportBatch = 500

// Sink receives exported events as JSON lines.
type Sink interface {
	// Write delivers lines, each ending in "\n"; an error means "again later".
	Write(ctx context.Context, lines []byte) error
	Close() error
}

// ExportedEvent is one line of the export: the stored event with its
// detail as a JSON object rather than a string.
type ExportedEvent struct {
	ID       string          `json:"id"`
	At       time.Time       `json:"at"`
	Kind     string          `json:"kind"`
	Actor    string          `json:"actor"`
	ClientID string          `json:"client_id,omitempty"`
	Target   string          `json:"target,omitempty"`
	Detail   json.RawMessage `json:"detail"`
}

func exportLine(e store.AuditEvent) ([]byte, error) {
	detail := json.RawMessage(e.Detail)
	if !json.Valid(detail) {
		detail, _ = json.Marshal(e.Detail)
	}
	return json.Marshal(ExportedEvent{ID: e.ID, At: e.At.UTC(), Kind: e.Kind, Actor: e.Actor,
		ClientID: e.ClientID, Target: e.Target, Detail: detail})
}

// exporter streams spooled events to a sink from its own cursor.
type exporter struct {
	r        *reader
	sink     Sink
	log      *slog.Logger
	failures atomic.Int64

	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
	running bool
	cancel  context.CancelFunc // the running loop's context
}

// newExporter starts at its saved cursor; the first start that exports
// begins with the events this process records.
func newExporter(sp *Spool, sink Sink, log *slog.Logger) *exporter {
	e := &exporter{sink: sink, log: log, stop: make(chan struct{}), stopped: make(chan struct{})}
	e.r = newReader(sp, "export", sp.First(), exportBatch, log, e.deliver)
	return e
}

func (e *exporter) deliver(ctx context.Context, payloads [][]byte) error {
	var buf bytes.Buffer
	for _, ev := range decodeEvents(payloads, e.log) {
		line, err := exportLine(ev)
		if err != nil {
			e.log.Error("audit export: an event does not encode; skipped", "id", ev.ID, "err", err)
			continue
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	if buf.Len() == 0 {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := e.sink.Write(wctx, buf.Bytes()); err != nil {
		e.failures.Add(1)
		return err
	}
	return nil
}

// start runs the exporter: it looks for new events every `every`, and
// after a failure waits from `backoff` doubling up to a minute (with
// jitter, so that nodes do not retry in step).
func (e *exporter) start(every, backoff time.Duration) {
	e.running = true
	// Stopping does not cancel a delivery under way: a batch the sink has
	// taken is recorded as delivered, not sent again after a restart.
	// Only close's own deadline cuts it short.
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	go func() {
		defer close(e.stopped)
		wait, retry := every, time.Duration(0)
		for {
			if err := e.r.drain(ctx); err != nil && ctx.Err() == nil {
				retry = min(max(2*retry, backoff), time.Minute)
				wait = retry/2 + rand.N(retry/2+1)
				e.log.Warn("audit export failed; will retry", "err", err, "retry_in", wait.Round(time.Millisecond))
			} else {
				wait, retry = every, 0
			}
			select {
			case <-e.stop:
				return
			case <-time.After(wait):
			}
		}
	}()
}

// close stops the exporter after one last delivery within ctx; what is
// left goes out after the next start.
func (e *exporter) close(ctx context.Context) {
	e.once.Do(func() { close(e.stop) })
	if e.running {
		select {
		case <-e.stopped:
		case <-ctx.Done():
			e.cancel()
			<-e.stopped
		}
		e.cancel()
	}
	if err := e.r.drain(ctx); err != nil {
		e.log.Warn("audit export: events left for the next start", "err", err)
	}
	e.sink.Close()
}

// CheckTarget reports whether target names a sink: "stdout",
// "file:PATH", or an http(s) URL.
func CheckTarget(target string) error {
	switch {
	case target == "stdout":
		return nil
	case strings.HasPrefix(target, "file:"):
		if strings.TrimPrefix(target, "file:") == "" {
			return errors.New(`"file:" needs a path, as in file:/var/log/gatehouse/audit.jsonl`)
		}
		return nil
	case strings.HasPrefix(target, "http://"), strings.HasPrefix(target, "https://"):
		if u, err := url.Parse(target); err != nil || u.Host == "" {
			return fmt.Errorf("%q is not a URL", RedactTarget(target))
		}
		return nil
	}
	return fmt.Errorf("%q is not stdout, file:PATH or an http(s) URL", RedactTarget(target))
}

// RedactTarget hides a URL's password, for logs and errors.
func RedactTarget(target string) string {
	if u, err := url.Parse(target); err == nil && u.User != nil {
		return u.Redacted()
	}
	return target
}

// OpenSink opens the sink target names (see CheckTarget). authorization,
// when set, is the HTTP sink's Authorization header; a URL's user and
// password are sent as Basic authentication.
func OpenSink(target, authorization string) (Sink, error) {
	if err := CheckTarget(target); err != nil {
		return nil, err
	}
	switch {
	case target == "stdout":
		return &writerSink{w: os.Stdout}, nil
	case strings.HasPrefix(target, "file:"):
		return &fileSink{path: strings.TrimPrefix(target, "file:")}, nil
	}
	return &httpSink{url: target, auth: authorization, client: &http.Client{
		Timeout: 30 * time.Second,
		// Never carry the credentials elsewhere: a redirect is a failure.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

// writerSink writes to a stream (stdout: logs go to stderr).
type writerSink struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *writerSink) Write(_ context.Context, lines []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.w.Write(lines)
	return err
}

func (s *writerSink) Close() error { return nil }

// fileSink appends to a file, fsyncing each batch before the cursor moves,
// and reopens it when it was renamed or removed (logrotate).
type fileSink struct {
	path string
	f    *os.File
}

func (s *fileSink) Write(_ context.Context, lines []byte) error {
	if err := s.open(); err != nil {
		return err
	}
	if _, err := s.f.Write(lines); err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	return nil
}

func (s *fileSink) open() error {
	if s.f != nil {
		now, err1 := os.Stat(s.path)
		held, err2 := s.f.Stat()
		if err1 == nil && err2 == nil && os.SameFile(now, held) {
			return nil
		}
		s.f.Close()
		s.f = nil
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	s.f = f
	return nil
}

func (s *fileSink) Close() error {
	if s.f == nil {
		return nil
	}
	return s.f.Close()
}

// httpSink POSTs each batch as application/x-ndjson; any answer but 2xx
// is a failure to retry.
type httpSink struct {
	url    string
	auth   string
	client *http.Client
}

func (s *httpSink) Write(ctx context.Context, lines []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(lines))
	if err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	if s.auth != "" {
		req.Header.Set("Authorization", s.auth)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("audit export: %w", err) // net/http hides the URL's password
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("audit export: %s answered %s", RedactTarget(s.url), resp.Status)
	}
	return nil
}

func (s *httpSink) Close() error {
	s.client.CloseIdleConnections()
	return nil
}
