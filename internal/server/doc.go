// Package server assembles a gatehouse node: it opens the store and the
// key-encryption key, bootstraps an empty store, loads the catalog and the
// signing keys, mounts each endpoint package on its mux, and runs the
// listeners (with timeouts and body limits) until it is told to stop.
//
// It wires; it holds no protocol or policy of its own.
package server
