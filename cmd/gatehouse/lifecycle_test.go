package main

import (
	"strings"
	"testing"
)

// TestLifecycleCommands: tenant rename, env delete and tenant delete,
// refused while something depends on them and done with --cascade.
func TestLifecycleCommands(t *testing.T) {
	startServer(t)
	for _, args := range [][]string{
		{"tenant", "create", "acme"},
		{"env", "create", "acme/qa"},
		{"client", "create", "--tenant", "acme", "--env", "qa", "--name", "ci"},
	} {
		if out, err := run(t, "", args...); err != nil {
			t.Fatalf("gatehouse %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	var renamed map[string]any
	mustJSON(t, &renamed, "tenant", "rename", "acme", "Acme Corporation")
	if renamed["id"] != "acme" || renamed["name"] != "Acme Corporation" {
		t.Errorf("tenant rename: got %v, want acme named Acme Corporation", renamed)
	}
	tests := []struct {
		args    []string
		wantErr bool
		mention string
	}{
		{[]string{"env", "delete", "acme/qa"}, true, "1 clients"},
		{[]string{"tenant", "delete", "acme"}, true, "--cascade"},
		{[]string{"env", "delete", "acme"}, true, "TENANT/ENV"},
		{[]string{"env", "delete", "acme/qa", "--cascade"}, false, "acme/qa"},
		{[]string{"tenant", "delete", "acme"}, false, "deleted tenant"},
		{[]string{"tenant", "delete", "acme"}, true, "not found"},
	}
	for _, tt := range tests {
		out, err := run(t, "", tt.args...)
		if (err != nil) != tt.wantErr || !strings.Contains(out+errText(err), tt.mention) {
			t.Errorf("gatehouse %s: got %v\n%s\nwant error=%v mentioning %q", strings.Join(tt.args, " "), err, out, tt.wantErr, tt.mention)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
