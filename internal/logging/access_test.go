package logging

import (
	"bytes"
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
