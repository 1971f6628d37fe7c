package gateway

import (
	"context"
	"log/slog"
	"strings"
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

	mu      sync.RWMutex
	jtis    map[string]time.Time     // jti -> when its token expires
	clients map[string]clientRevoked // deleted client id -> since when
	since   int64                    // gatehouse time to poll from; 0 means all
}

// clientPrefix starts a revocation that stands for every token of a
// deleted client issued up to its revoked_at (store.ClientRevocationPrefix
// at gatehouse; a wire contract, as the gateway talks to gatehouse only
// over HTTP).
const clientPrefix = "client:"

// clientRevoked is a deleted client's entry: its tokens issued at or
// before at are refused until the entry expires.
type clientRevoked struct{ at, expires time.Time }

func newRevocationList(gh *gatehouseClient, timeout time.Duration) *revocationList {
	return &revocationList{gatehouse: gh, timeout: timeout, now: time.Now, jtis: map[string]time.Time{}, clients: map[string]clientRevoked{}}
}

// clientGone reports whether the client id was deleted at gatehouse after
// it was issued a token at iat (unix seconds).
func (l *revocationList) clientGone(id string, iat int64) bool {
	l.mu.RLock()
	c, ok := l.clients[id]
	l.mu.RUnlock()
	return ok && iat <= c.at.Unix()
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
		switch {
		case r.JTI == "" || !now.Before(r.ExpiresAt):
		case strings.HasPrefix(r.JTI, clientPrefix):
			l.clients[strings.TrimPrefix(r.JTI, clientPrefix)] = clientRevoked{at: r.RevokedAt, expires: r.ExpiresAt}
		default:
			l.jtis[r.JTI] = r.ExpiresAt
		}
	}
	for jti, exp := range l.jtis {
		if !now.Before(exp) {
			delete(l.jtis, jti)
		}
	}
	for id, c := range l.clients {
		if !now.Before(c.expires) {
			delete(l.clients, id)
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
