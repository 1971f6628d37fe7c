// Package conformance is the test suite every store.Store backend must pass:
// RunTests checks the contract one call at a time (round trips, errors,
// Update semantics) and RunConcurrencyTests checks that concurrent callers,
// such as several gatehouse nodes sharing one database, lose no update.
//
// A backend's own _test.go file calls both with a function that opens a
// fresh, empty store for each subtest. The suite uses the real database,
// never a mock, and must not depend on any one backend.
package conformance
