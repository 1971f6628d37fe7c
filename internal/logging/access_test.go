package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestAccess(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, "info", "json")
	if err != nil {
		t.Fatal(err)
	}
	var doneStatus int
	h := Access{
		Log:  log,
		Done: func(r *http.Request, status int, _ time.Duration) { doneStatus = status },
		Fail: func(w http.ResponseWriter) { w.WriteHeader(599) },
	}.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		AddAccessAttrs(r.Context(), slog.String("route", "token"))
		log.InfoContext(r.Context(), "inside")
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		w.WriteHeader(201)
		w.Write([]byte("hello"))
	}))

	tests := []struct {
		name, target, reqID string
		wantStatus          int
		wantID              func(string) bool
	}{
		{"a plain request id is kept", "/t?client_secret=s3cr3t", "abc-123", 201, func(id string) bool { return id == "abc-123" }},
		{"a forged request id is replaced", "/t", "x\ny", 201, func(id string) bool { return id != "x\ny" && len(id) == 16 }},
		{"a panic answers with Fail", "/panic", "", 599, func(id string) bool { return id != "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf.Reset()
			req := httptest.NewRequest("POST", tt.target, nil)
			req.Header.Set("X-Request-Id", tt.reqID)
			req.Header.Set("Authorization", "Bearer tok3n")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			id := w.Header().Get("X-Request-Id")
			if w.Code != tt.wantStatus || doneStatus != tt.wantStatus || !tt.wantID(id) {
				t.Errorf("got status %d (Done saw %d) id %q, want %d", w.Code, doneStatus, id, tt.wantStatus)
			}
			out := buf.String()
			if strings.Contains(out, "s3cr3t") || strings.Contains(out, "tok3n") || strings.Contains(out, "client_secret") {
				t.Errorf("the log holds the query string or a header: %s", out)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			var last map[string]any
			json.Unmarshal([]byte(lines[len(lines)-1]), &last)
			if last["msg"] != "request" || last["route"] != "token" || last["request_id"] != id || int(last["status"].(float64)) != tt.wantStatus {
				t.Errorf("access line: got %v", last)
			}
			for _, l := range lines {
				if !strings.Contains(l, `"request_id":"`+id+`"`) {
					t.Errorf("a line without the request id: %s", l)
				}
			}
		})
	}
}

func TestLoggerRedactsSecrets(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, "info", "json")
	if err != nil {
		t.Fatal(err)
	}
	const secret = "gatehouse_WD-yzWHQvhB28GRZWzu-egFFEyRNwKx63KADpTLH63g"
	log.Info("token request refused for "+secret, "client_id", secret, "path", "/x?client_secret="+secret,
		"cause", errors.New("client "+secret+" unknown"), "count", 3)
	out := buf.String()
	if strings.Contains(out, "WD-yzWHQ") {
		t.Errorf("a secret reached the log: %s", out)
	}
	if strings.Count(out, "gatehouse_[redacted]") != 4 || !strings.Contains(out, `"count":3`) {
		t.Errorf("want four redactions and the other fields kept: %s", out)
	}
}

type outerKey struct{}

// The context Access gives a request is the request's own with the id and
// the access-log fields added: values and cancellation from outside reach
// the handler, and contexts derived from it keep the id and the fields.
func TestAccessContext(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, "info", "json")
	if err != nil {
		t.Fatal(err)
	}
	h := Access{Log: log}.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithCancel(context.WithValue(r.Context(), outerKey{}, "inner"))
		defer cancel()
		AddAccessAttrs(ctx, slog.String("route", "derived"))
		if got := RequestID(ctx); got != "abc" {
			t.Errorf("RequestID of a derived context: got %q, want abc", got)
		}
		if got := r.Context().Value(outerKey{}); got != "outer" {
			t.Errorf("a value set outside Access: got %v, want outer", got)
		}
		if ctx.Err() == nil || r.Context().Err() == nil {
			t.Errorf("cancelling the outside context: got %v, %v, want both cancelled", ctx.Err(), r.Context().Err())
		}
	}))
	outer, cancel := context.WithCancel(context.WithValue(context.Background(), outerKey{}, "outer"))
	cancel()
	req := httptest.NewRequestWithContext(outer, "GET", "/x", nil)
	req.Header.Set("X-Request-Id", "abc")
	h.ServeHTTP(httptest.NewRecorder(), req)
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("access line %q: %v", buf.String(), err)
	}
	if line["route"] != "derived" || line["request_id"] != "abc" {
		t.Errorf("access line: got %v, want route derived and request_id abc", line)
	}
}

func TestAccessBelowLevel(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, "warn", "json")
	if err != nil {
		t.Fatal(err)
	}
	done := 0
	h := Access{Log: log, Done: func(*http.Request, int, time.Duration) { done++ }}.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
	if buf.Len() != 0 || done != 1 {
		t.Errorf("got log %q and Done called %d times, want no line and 1", buf.String(), done)
	}
}
