package bench

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"
)

func TestTallyBoundsKinds(t *testing.T) {
	tl := newTally()
	for i := range 100 {
		tl.answered(400, fmt.Appendf(nil, `{"error":"code_%d"}`, i))
		tl.transportError(fmt.Errorf("error %d", i))
	}
	if got := len(tl.failures); got > maxErrorKinds+1 {
		t.Errorf("failure kinds = %d, want <= %d", got, maxErrorKinds+1)
	}
	if got := len(tl.transport); got > maxErrorKinds+1 {
		t.Errorf("transport error kinds = %d, want <= %d", got, maxErrorKinds+1)
	}
	var sum uint64
	for _, f := range tl.failureList() {
		sum += f.Count
	}
	if sum != 100 || tl.transportN != 100 {
		t.Errorf("counted %d failures and %d transport errors, want 100 each", sum, tl.transportN)
	}
}

func TestErrorKind(t *testing.T) {
	refused := errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"url error loses the URL", &url.Error{Op: "Post", URL: "http://127.0.0.1:1/oauth/token", Err: refused}, refused.Error()},
		{"deadline", &url.Error{Op: "Post", URL: "http://x", Err: context.DeadlineExceeded}, "timeout"},
		{"plain", errors.New("boom"), "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorKind(tt.err); got != tt.want {
				t.Errorf("errorKind(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}
