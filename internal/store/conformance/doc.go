// Package conformance is the test suite every store.Store backend must pass:
// RunTests checks the contract one call at a time (round trips, errors,
// Update semantics, the change feed: order, one change per write and none
// for a refused one, pruning, notifications) and RunConcurrencyTests checks
// that concurrent callers, such as several gatehouse nodes sharing one
// database, lose no update, agree on one next signing key, and that a
// follower of the change feed never sees a change before its write or a
// later change before an earlier one.
//
// A backend's own _test.go file calls both with a function that opens a
// fresh, empty store for each subtest. The suite uses the real database,
// never a mock, and must not depend on any one backend.
package conformance
