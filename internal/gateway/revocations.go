package gateway

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

const (
	// revocationOverlap is how far before gatehouse's last answer the next
	// poll starts: revocations committed on other gatehouse nodes may carry
	// slightly earlier times.
	revocationOverlap = 60
	// failureLogEvery limits the warnings while gatehouse cannot be polled.
	failureLogEvery = time.Minute
)

// revocationList is the gateway's copy of the JWT ids revoked at gatehouse
// that have not expired yet, kept by polling POST /oauth/revocations. Safe
// for concurrent use.
type revocationList struct {
	gatehouse *gatehouseClient
	timeout   time.Duration
	now       func() time.Time

	mu    sync.RWMutex
	jtis  map[string]time.Time // jti -> when its token expires
	since int64                // gatehouse time to poll from; 0 means all
}

func newRevocationList(gh *gatehouseClient, timeout time.Duration) *revocationList {
	return &revocationList{gatehouse: gh, timeout: timeout, now: time.Now, jtis: map[string]time.Time{}}
}

// revoked reports whether the token with this jti was revoked.
func (l *revocationList) revoked(jti string) bool {
	if jti == "" {
		return false
	}
	l.mu.RLock()
	_, ok := l.jtis[jti]
	l.mu.RUnlock()
	return ok
}

// poll fetches the revocations made since the last poll and drops the
// entries whose tokens have expired.
func (l *revocationList) poll(ctx context.Context) error {
	l.mu.RLock()
	since := l.since
	l.mu.RUnlock()
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	page, err := l.gatehouse.revocations(ctx, since)
	if err != nil {
		return err
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range page.Revocations {
		if r.JTI != "" && now.Before(r.ExpiresAt) {
			l.jtis[r.JTI] = r.ExpiresAt
		}
	}
	for jti, exp := range l.jtis {
		if !now.Before(exp) {
			delete(l.jtis, jti)
		}
	}
	if page.Now > revocationOverlap {
		l.since = page.Now - revocationOverlap
	}
	return nil
}

// run polls every interval until ctx is done. While gatehouse cannot be
// reached the last list stays in force; failures are logged once a minute.
func (l *revocationList) run(ctx context.Context, every time.Duration, log *slog.Logger) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	var failingSince, lastLog time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		err := l.poll(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			now := time.Now()
			if failingSince.IsZero() {
				failingSince = now
			}
			if now.Sub(lastLog) >= failureLogEvery {
				lastLog = now
				log.Warn("cannot poll gatehouse for revoked tokens; the last list stays in force",
					"err", err, "failing_for", now.Sub(failingSince).Round(time.Second).String())
			}
		case !failingSince.IsZero():
			log.Info("polling gatehouse for revoked tokens again", "after", time.Since(failingSince).Round(time.Second).String())
			failingSince, lastLog = time.Time{}, time.Time{}
		}
	}
}
