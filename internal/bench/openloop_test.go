package bench

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"
)

func TestSchedule(t *testing.T) {
	start := time.Unix(0, 0)
	s := newSchedule(start, time.Second, 4)
	var got []time.Duration
	for {
		at, ok := s.take()
		if !ok {
			break
		}
		got = append(got, at.Sub(start))
	}
	want := []time.Duration{0, 250 * time.Millisecond, 500 * time.Millisecond, 750 * time.Millisecond}
	if len(got) != len(want) {
		t.Fatalf("slots = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("slot %d at %v, want %v", i, got[i], want[i])
		}
	}
	if s := newSchedule(start, time.Second, 0); s != nil {
		t.Errorf("rate 0 gave a schedule, want nil (closed loop)")
	}
}

// TestOpenLoopCountsQueueing sends at 400/s to a server that one worker
// can get only 50 answers a second from (20ms each). The k-th request sent
// (from 0) cannot start before k*20ms, yet it was due at k*2.5ms: measured
// from its intended time its latency is at least 20ms + k*17.5ms. These
// bounds hold however loaded the test machine is, so the test asserts
// them rather than timings.
func TestOpenLoopCountsQueueing(t *testing.T) {
	const service, rate = 20 * time.Millisecond, 400.0
	interval := time.Duration(float64(time.Second) / rate)
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(service)
		io.WriteString(w, okBody)
	})
	o := quickOpts(srv.URL)
	o.Concurrency, o.Rate, o.Duration = 1, rate, 300*time.Millisecond
	res, err := Token(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	ol := res.OpenLoop
	if ol == nil || res.Mode != "open-loop" {
		t.Fatalf("mode %s, open-loop report %v, want open-loop", res.Mode, ol)
	}
	if ol.Sent < 2 {
		t.Fatalf("sent %d requests in %v, want at least 2", ol.Sent, o.Duration)
	}
	if res.OK != ol.Sent {
		t.Errorf("tokens = %d, want one per sent request (%d)", res.OK, ol.Sent)
	}
	if ol.Scheduled != 120 || ol.Sent+ol.Unsent != ol.Scheduled || ol.Unsent == 0 {
		t.Errorf("scheduled %d = sent %d + unsent %d, want 120 with a backlog left", ol.Scheduled, ol.Sent, ol.Unsent)
	}
	if ol.Behind < ol.Sent-1 {
		t.Errorf("behind = %d, want >= %d: every request after the first started late", ol.Behind, ol.Sent-1)
	}
	if res.Latency.Min < service {
		t.Errorf("min latency = %v, want >= the service time %v", res.Latency.Min, service)
	}
	k := time.Duration(ol.Sent - 1)
	floor := service + k*(service-interval)
	if res.Latency.P99 < floor || res.Latency.P99 <= service {
		t.Errorf("p99 = %v, want >= %v (queueing for %d sends) and above the service time %v",
			res.Latency.P99, floor, ol.Sent, service)
	}
}

func TestOpenLoopPacesSends(t *testing.T) {
	srv, conns := newServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, okBody) })
	o := quickOpts(srv.URL)
	o.Rate, o.Duration, o.Concurrency, o.Warmup = 100, 200*time.Millisecond, 4, 50*time.Millisecond
	res, err := Token(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	ol := res.OpenLoop
	if ol.Scheduled != 20 || ol.Sent+ol.Unsent != ol.Scheduled || ol.Sent == 0 {
		t.Errorf("scheduled %d = sent %d + unsent %d, want 20 and some sent", ol.Scheduled, ol.Sent, ol.Unsent)
	}
	if res.OK != ol.Sent {
		t.Errorf("tokens = %d, want %d", res.OK, ol.Sent)
	}
	if floor := time.Duration(ol.Sent-1) * 10 * time.Millisecond; res.Elapsed < floor {
		t.Errorf("%d sends took %v, want >= %v at 100/s", ol.Sent, res.Elapsed, floor)
	}
	if got := conns.Load(); got > int64(o.Concurrency) {
		t.Errorf("connections = %d, want <= %d across warm-up and run", got, o.Concurrency)
	}
}
