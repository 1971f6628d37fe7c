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

// TestImportRefusesWhatBcryptCannotHold: an imported secret longer than
// bcrypt's 72 bytes is refused at import with the reason, not truncated.
func TestImportRefusesWhatBcryptCannotHold(t *testing.T) {
	startServer(t)
	if out, err := run(t, "", "tenant", "create", "acme"); err != nil {
		t.Fatalf("tenant create: %v\n%s", err, out)
	}
	long := strings.Repeat("s", 73)
	out, err := run(t, long+"\n", "client", "create", "--tenant", "acme", "--name", "legacy", "--client-id", "legacy-1", "--client-secret-stdin")
	if err == nil || !strings.Contains(out+errText(err), "72") {
		t.Errorf("a 73-byte import: got %v\n%s\nwant a refusal naming bcrypt's 72-byte limit", err, out)
	}
	if out, err := run(t, long[:72]+"\n", "client", "create", "--tenant", "acme", "--name", "legacy", "--client-id", "legacy-1", "--client-secret-stdin"); err != nil {
		t.Errorf("a 72-byte import: got %v\n%s, want it accepted", err, out)
	}
}
