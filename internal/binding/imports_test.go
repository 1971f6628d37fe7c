package binding

import (
	"go/build"
	"slices"
	"strings"
	"testing"
)

// TestImports keeps the promise of doc.go: verify, a public package,
// imports this one, and through it internal/replay, which must import
// only the standard library.
func TestImports(t *testing.T) {
	allowed := map[string][]string{
		".": {"github.com/gatehouse/gatehouse/internal/bearer", "github.com/gatehouse/gatehouse/internal/dpop",
			"github.com/gatehouse/gatehouse/internal/replay"},
		"../replay": nil,
	}
	for dir, ok := range allowed {
		pkg, err := build.ImportDir(dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range pkg.Imports {
			first, _, _ := strings.Cut(path, "/")
			if strings.Contains(first, ".") && !slices.Contains(ok, path) {
				t.Errorf("%s: got import %q, want the standard library and %v only", pkg.ImportPath, path, ok)
			}
		}
	}
}
