package dpop

import (
	"go/build"
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
	for _, path := range pkg.Imports {
		first, _, _ := strings.Cut(path, "/")
		if strings.Contains(first, ".") && !strings.HasPrefix(path, "github.com/go-jose/go-jose/v4") &&
			path != "github.com/gatehouse/gatehouse/internal/jwks" && path != "github.com/gatehouse/gatehouse/internal/jwtclaim" {
			t.Errorf("got import %q, want the standard library, go-jose, internal/jwks and internal/jwtclaim only", path)
		}
	}
}
