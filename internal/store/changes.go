package store

import (
	"context"
	"time"
)

// Kinds of change in the feed; Change.Key names the entity.
const (
	ChangeTenant      = "tenant"      // Key: tenant id
	ChangeEnvironment = "environment" // Key: "<tenant>/<id>"
	ChangeAPI         = "api"         // Key: audience
	ChangeClient      = "client"      // Key: client id
	ChangeKey         = "key"         // Key: kid
	ChangeRevocation  = "revocation"  // Key: jti
)

// Change records that one entity was created, updated or deleted. It says
// what changed, not how: a node reads the entity again.
type Change struct {
	ID   int64     `json:"id"`
	Kind string    `json:"kind"`
	Key  string    `json:"key"`
	At   time.Time `json:"at"`
}

// EnvironmentKey is the Change.Key of an environment.
func EnvironmentKey(tenant, id string) string { return tenant + "/" + id }

// ChangeFeed is the ordered record of the writes that nodes' in-memory
// copies must follow. Every successful write of a tenant, environment,
// API, client, signing key or revocation appends exactly one Change in the
// same transaction as the write, so a change is visible exactly when the
// write is. A failed or refused write appends nothing.
//
// Change ids start at 1 and have no gaps, and a reader that sees change n
// sees every change before it. A node that follows the feed from id a
// therefore knows it missed something (changes pruned while it was away)
// when the first change it reads is not a+1.
type ChangeFeed interface {
	// ChangesSince returns up to limit changes with ids above after, in id order.
	ChangesSince(ctx context.Context, after int64, limit int) ([]Change, error)
	// LatestChange returns the id of the last change recorded (0: none
	// yet). Pruning does not lower it.
	LatestChange(ctx context.Context) (int64, error)
	// PruneChanges deletes changes recorded before t and reports how many.
	PruneChanges(ctx context.Context, before time.Time) (int64, error)
	// ListenChanges subscribes to the database's notice that changes were
	// committed: a wake-up only, the feed is still read with ChangesSince.
	// Databases without notifications return ErrNotSupported.
	ListenChanges(ctx context.Context) (ChangeListener, error)
}

// ChangeListener is an open subscription to change notices.
type ChangeListener interface {
	// Wait blocks until a notice arrives, ctx ends, or the subscription
	// fails (wrapping ErrUnavailable when the connection was lost).
	Wait(ctx context.Context) error
	Close() error
}
