// Package changes keeps a node's in-memory copies (catalog, signing keys,
// revocations) in step with the store's change feed, so that a change made
// through any node reaches every other within about a second.
//
// A Follower polls the feed (store.ChangeFeed) every second; where the
// database has notifications (PostgreSQL's LISTEN/NOTIFY) a notice wakes it
// at once. Polling alone is enough: databases without notifications
// (CockroachDB, YugabyteDB) lose only the early wake-up. It reloads
// everything at start, when it finds changes it missed (pruned while it
// could not read), and after its notification connection comes back.
//
// It knows nothing of what it keeps up to date: the node passes Apply and
// Reload.
package changes
