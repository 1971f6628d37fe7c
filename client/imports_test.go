package client

import (
	"go/build"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/dpop"
)

// TestImports keeps the promise of doc.go: code outside gatehouse imports
// this package, so it may not pull in the server.
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	allowed := []string{"golang.org/x/oauth2", "golang.org/x/sync/", "github.com/go-jose/go-jose/v4",
		"github.com/gatehouse/gatehouse/internal/dpop"}
	for _, path := range pkg.Imports {
		first, _, _ := strings.Cut(path, "/")
		if !strings.Contains(first, ".") {
			continue // the standard library
		}
		ok := false
		for _, a := range allowed {
			ok = ok || path == a || strings.HasPrefix(path, strings.TrimSuffix(a, "/")+"/")
		}
		if !ok {
			t.Errorf("got import %q, want the standard library, x/oauth2, x/sync, go-jose and internal/dpop only", path)
		}
	}
}

// TestHeaderNames keeps the exported header name the proof package's.
func TestHeaderNames(t *testing.T) {
	if DPoPNonceHeader != dpop.NonceHeader {
		t.Errorf("DPoPNonceHeader = %q, want %q", DPoPNonceHeader, dpop.NonceHeader)
	}
}
