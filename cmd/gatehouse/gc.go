package main

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// gcHeadroom is how much the heap may grow past its live part between
// collections. The token endpoint makes short-lived garbage at a rate
// that does not depend on how many clients the catalog holds, so the room
// it needs is a size, not a multiple of the live heap: 4x a small heap
// (GOGC=400) halves GC work against Go's default, but 4x a million-client
// catalog would be gigabytes.
const gcHeadroom = 64 << 20

// gcPercent is the GOGC that gives a live heap of live bytes gcHeadroom,
// between 50 and 400.
func gcPercent(live uint64) int {
	if live == 0 {
		return 400
	}
	return int(min(400, max(50, 100*gcHeadroom/live)))
}

// gcSetByOperator reports whether GOGC or GOMEMLIMIT is set.
func gcSetByOperator() bool { return os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" }

// tuneGC sets GOGC from the live heap now and every interval after, unless
// GOGC or GOMEMLIMIT is set (then the operator's word stands). It returns
// at once; the adjusting runs until ctx ends.
func tuneGC(ctx context.Context, interval time.Duration) {
	if gcSetByOperator() {
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	adjust := func() {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			debug.SetGCPercent(gcPercent(sample[0].Value.Uint64()))
		}
	}
	adjust()
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				adjust()
			}
		}
	}()
}
