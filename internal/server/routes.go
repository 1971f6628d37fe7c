package server

import "net/http"

// routeTable registers routes on a mux and lists their patterns, so that
// a test can walk every admin route (and check the OpenAPI document names
// each one). Register admin API routes through it, not on the mux.
type routeTable struct {
	mux      *http.ServeMux
	patterns []string
}

func (t *routeTable) Handle(pattern string, h http.Handler) {
	t.mux.Handle(pattern, h)
	t.patterns = append(t.patterns, pattern)
}
