package server

import (
	"path"
	"strings"
	"testing"
)

// canonical is the check canonicalPaths made by building the cleaned
// path with its trailing slash.
func FuzzCanonical(f *testing.F) {
	for _, p := range []string{"/", "//", "/oauth/token", "/console/", "/console//", "/a/./b", "/a/../b/", "/a/b/..", "/x/", "x/", "x", "/.", "/./", "/admin/v1/apis/https:%2F%2Fapi.example.io"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		want := path.Clean(p)
		if strings.HasSuffix(p, "/") && want != "/" {
			want += "/"
		}
		if got := canonical(p); got != (want == p) {
			t.Errorf("canonical(%q): got %v, want %v", p, got, want == p)
		}
	})
}
