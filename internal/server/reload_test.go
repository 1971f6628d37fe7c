package server

import (
	"testing"
	"time"
)

func TestReloadInterval(t *testing.T) {
	tests := []struct {
		clients int
		want    time.Duration
	}{
		{0, time.Minute},
		{10, time.Minute},
		{100_000, 100 * time.Second},
		{1_000_000, 1000 * time.Second},
	}
	for _, tt := range tests {
		if got := reloadInterval(tt.clients, 3); got != tt.want {
			t.Errorf("reloadInterval(%d): got %s, want %s", tt.clients, got, tt.want)
		}
	}
}
