package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// receiver is an HTTP log endpoint that refuses some requests.
type receiver struct {
	mu       sync.Mutex
	requests int
	refused  int
	ids      map[string]int
	auth     string
	// refuse says whether the nth request (from 1) fails.
	refuse func(n int) bool
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.requests++
	rc.auth = r.Header.Get("Authorization")
	if r.Header.Get("Content-Type") != "application/x-ndjson" {
		http.Error(w, "want application/x-ndjson", http.StatusUnsupportedMediaType)
		return
	}
	if rc.refuse != nil && rc.refuse(rc.requests) {
		rc.refused++
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	}
	for _, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
		var e ExportedEvent
		if err := json.Unmarshal(line, &e); err != nil || e.ID == "" {
			http.Error(w, "bad line", http.StatusBadRequest)
			return
		}
		rc.ids[e.ID]++
	}
}

func (rc *receiver) count() (distinct, total int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, n := range rc.ids {
		total += n
	}
	return len(rc.ids), total
}

// waitFor polls cond until it holds or 30 s pass (a loaded machine).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30s for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func exportingRecorder(t *testing.T, data, target, auth string) *Recorder {
	t.Helper()
	sink, err := OpenSink(target, auth)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := OpenSpool(filepath.Join(data, "audit-spool"), Sync{Every: time.Second}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	r := NewDurable(sqliteStore(t, data), sp, sink, quiet())
	r.FlushEvery, r.ExportEvery, r.ExportBackoff = 10*time.Millisecond, 10*time.Millisecond, 5*time.Millisecond
	r.Start()
	return r
}

func record(r *Recorder, n int) {
	for i := range n {
		r.Record("token.issued", "c1", "c1", "https://a", map[string]any{"i": i, "jti": "j"})
	}
}

// TestExportHTTPRetriesAndResumes: an endpoint that fails every third
// request still gets every event (at least once); a restart resumes from
// the cursor, so the second run's receiver gets only the new events.
func TestExportHTTPRetriesAndResumes(t *testing.T) {
	data := t.TempDir()
	rc := &receiver{ids: map[string]int{}, refuse: func(n int) bool { return n%3 != 0 }}
	ts := httptest.NewServer(rc)
	defer ts.Close()

	r := exportingRecorder(t, data, ts.URL+"/ingest", "Splunk s3cret")
	record(r, 1200)
	waitFor(t, "1200 events at the receiver", func() bool { d, _ := rc.count(); return d == 1200 })
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, total := rc.count()
	if rc.refused == 0 || total > 1200+exportBatch {
		t.Errorf("got %d refusals and %d lines for 1200 events, want some refusals and at most one batch again", rc.refused, total)
	}
	if rc.auth != "Splunk s3cret" {
		t.Errorf("Authorization: got %q, want the configured one", rc.auth)
	}
	if events, failures := r.Exported(); events < 1200 || failures == 0 {
		t.Errorf("Exported: got %d events and %d failures, want at least 1200 and some", events, failures)
	}

	next := &receiver{ids: map[string]int{}}
	ts2 := httptest.NewServer(next)
	defer ts2.Close()
	r2 := exportingRecorder(t, data, ts2.URL, "")
	record(r2, 30)
	waitFor(t, "30 new events", func() bool { d, _ := next.count(); return d == 30 })
	r2.Close(context.Background())
	if d, total := next.count(); d != 30 || total != 30 {
		t.Errorf("after a restart: got %d events (%d lines), want only the 30 new ones", d, total)
	}
}

// TestExportFileAndStdout: each sink gets one JSON line per event with
// the detail as an object; the file sink follows a rotated file.
func TestExportFileAndStdout(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		data := t.TempDir()
		path := filepath.Join(data, "audit.jsonl")
		r := exportingRecorder(t, data, "file:"+path, "")
		record(r, 40)
		waitFor(t, "40 lines", func() bool { return len(linesOf(t, path)) == 40 })
		os.Rename(path, path+".1") // logrotate
		record(r, 5)
		waitFor(t, "5 lines in the new file", func() bool { return len(linesOf(t, path)) == 5 })
		r.Close(context.Background())
		checkLines(t, linesOf(t, path+".1"))
	})
	t.Run("stdout", func(t *testing.T) {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		saved := os.Stdout
		os.Stdout = pw
		r := exportingRecorder(t, t.TempDir(), "stdout", "")
		os.Stdout = saved
		lines := make(chan string, 100)
		go func() {
			sc := bufio.NewScanner(pr)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		record(r, 25)
		var got []string
		for len(got) < 25 {
			select {
			case l := <-lines:
				got = append(got, l)
			case <-time.After(10 * time.Second):
				t.Fatalf("got %d lines on stdout in 10s, want 25", len(got))
			}
		}
		r.Close(context.Background())
		pw.Close()
		checkLines(t, got)
	})
}

func linesOf(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func checkLines(t *testing.T, lines []string) {
	t.Helper()
	for i, l := range lines {
		var e struct {
			ID     string         `json:"id"`
			Kind   string         `json:"kind"`
			At     time.Time      `json:"at"`
			Detail map[string]any `json:"detail"`
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %d: %v: %s", i, err, l)
		}
		if e.ID == "" || e.Kind != "token.issued" || e.At.IsZero() || e.Detail["jti"] != "j" {
			t.Errorf("line %d: got %s, want id, kind, at and the detail as an object", i, l)
		}
	}
}

func TestCheckTarget(t *testing.T) {
	tests := []struct {
		target string
		ok     bool
	}{
		{"stdout", true},
		{"file:/var/log/gatehouse/audit.jsonl", true},
		{"https://logs.example.io/ingest", true},
		{"http://user:pw@127.0.0.1:9000/", true},
		{"file:", false},
		{"stdot", false},
		{"/var/log/audit.jsonl", false},
		{"https://", false},
	}
	for _, tt := range tests {
		err := CheckTarget(tt.target)
		if got := err == nil; got != tt.ok {
			t.Errorf("CheckTarget(%q): got %v, want ok=%v", tt.target, err, tt.ok)
		}
	}
	if err := CheckTarget("ftp://u:hunter2@x/"); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("an error about a URL with a password: got %v, want one without the password", err)
	}
}
