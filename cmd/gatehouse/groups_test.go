package main

import (
	"strings"
	"testing"
)

func TestMistypedSubcommandFails(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"env", "craete", "acme/production"}, `unknown command "craete" for "gatehouse env"`},
		{[]string{"client", "lsit"}, `unknown command "lsit" for "gatehouse client"`},
		{[]string{"bench", "sing"}, `unknown command "sing" for "gatehouse bench"`},
	}
	for _, tc := range tests {
		out, err := run(t, "", tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("gatehouse %s: got %v (output %q), want an error holding %q", strings.Join(tc.args, " "), err, out, tc.want)
		}
	}
	out, err := run(t, "", "env")
	if err != nil || !strings.Contains(out, "create") {
		t.Errorf("gatehouse env alone: got %v, %q; want its help", err, out)
	}
}
