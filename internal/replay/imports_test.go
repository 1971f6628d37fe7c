package replay

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports keeps the promise of doc.go: verify, a public package,
// imports this one through internal/binding.
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range pkg.Imports {
		if first, _, _ := strings.Cut(path, "/"); strings.Contains(first, ".") {
			t.Errorf("got import %q, want the standard library only", path)
		}
	}
}
