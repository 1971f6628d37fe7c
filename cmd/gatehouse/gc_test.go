package main

import "testing"

func TestGCPercent(t *testing.T) {
	tests := []struct {
		live uint64
		want int
	}{
		{0, 400},
		{4 << 20, 400},  // ten clients: the old GOGC=400
		{32 << 20, 200}, // 100,000 clients: 64 MiB of room
		{256 << 20, 50}, // a million: the floor
		{4 << 30, 50},
	}
	for _, tt := range tests {
		if got := gcPercent(tt.live); got != tt.want {
			t.Errorf("gcPercent(%d): got %d, want %d", tt.live, got, tt.want)
		}
	}
}
