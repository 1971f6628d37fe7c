package federation

import (
	"strings"
	"testing"
)

func TestCompileRefusesBadExpressions(t *testing.T) {
	tests := []struct{ name, expr, want string }{
		{"empty", "", "required"},
		{"syntax", `claims.sub ==`, "Syntax error"},
		{"not boolean", `claims.sub`, "want bool"},
		{"unknown variable", `subject == "x"`, "undeclared reference"},
		{"too long", `claims.sub == "` + strings.Repeat("a", MaxExpressionLength) + `"`, "at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(tt.expr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Compile(%.40q): got %v, want an error containing %q", tt.expr, err, tt.want)
			}
		})
	}
}

func TestMatchEval(t *testing.T) {
	github := map[string]any{
		"iss": "https://token.actions.githubusercontent.com", "sub": "repo:acme/deploy:ref:refs/heads/main",
		"repository": "acme/deploy", "ref": "refs/heads/main", "environment": "production",
		"exp": float64(1767225600), "groups": []any{"a", "b"},
	}
	tests := []struct {
		name, expr string
		want       bool
		errWant    string
	}{
		{"equal", `claims.repository == "acme/deploy" && claims.ref == "refs/heads/main"`, true, ""},
		{"not equal", `claims.repository == "acme/other"`, false, ""},
		{"string function", `claims.sub.startsWith("repo:acme/")`, true, ""},
		{"number", `claims.exp > 1000`, true, ""},
		{"list", `"b" in claims.groups`, true, ""},
		{"has guards a missing claim", `has(claims.job_workflow_ref) && claims.job_workflow_ref == "x"`, false, ""},
		{"missing claim", `claims.job_workflow_ref == "x"`, false, "no such key"},
		{"type mismatch", `claims.exp == "x" || claims.exp.startsWith("1")`, false, "no such overload"},
		{"cost limit", `[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, a+b+c+d > 0))))`, false, "cost limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Compile(tt.expr)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			got, err := m.Eval(github)
			if tt.errWant != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errWant) {
					t.Fatalf("Eval: got %v, %v; want an error containing %q", got, err, tt.errWant)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Eval: got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
