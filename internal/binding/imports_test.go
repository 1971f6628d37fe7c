package binding

import (
	"go/build"
	"slices"
	"strings"
	"testing"
)

// TestImports keeps the promise of doc.go: verify, a public package,
// imports this one.
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	allowed := []string{"github.com/gatehouse/gatehouse/internal/bearer", "github.com/gatehouse/gatehouse/internal/dpop",
		"github.com/gatehouse/gatehouse/internal/replay"}
	for _, path := range pkg.Imports {
		first, _, _ := strings.Cut(path, "/")
		if strings.Contains(first, ".") && !slices.Contains(allowed, path) {
			t.Errorf("got import %q, want the standard library, internal/bearer, internal/dpop and internal/replay only", path)
		}
	}
}
