package federation

import (
	"errors"
	"fmt"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/ext"
)

// Limits on a rule's expression: its length when saved, and the cost of
// one evaluation (CEL's own measure: roughly one unit per operation and
// per element a comprehension visits), so that no expression can hold a
// token request up.
const (
	MaxExpressionLength = 4096
	CostLimit           = 10_000
)

// Match is a rule's compiled expression. It is safe for concurrent use.
type Match struct {
	source  string
	program cel.Program
}

// celEnv is the one environment every rule compiles in: a single variable,
// claims, the outside token's claims as a map (as Kubernetes' structured
// authentication has it), and CEL's standard and string functions.
var celEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("claims", cel.MapType(cel.StringType, cel.DynType)),
		ext.Strings(),
	)
})

// Compile checks a rule's expression and prepares it to run: it must parse,
// type-check and be boolean. The error says what is wrong with it.
func Compile(expr string) (*Match, error) {
	switch {
	case expr == "":
		return nil, errors.New("match: an expression is required (for example claims.sub == \"...\")")
	case len(expr) > MaxExpressionLength:
		return nil, fmt.Errorf("match: expression is %d bytes, at most %d", len(expr), MaxExpressionLength)
	}
	env, err := celEnv()
	if err != nil {
		return nil, fmt.Errorf("match: CEL environment: %w", err)
	}
	ast, issues := env.Compile(expr)
	if issues.Err() != nil {
		return nil, fmt.Errorf("match: %w", issues.Err())
	}
	if t := ast.OutputType(); !t.IsExactType(cel.BoolType) {
		if t.IsExactType(cel.DynType) { // a bare claim: its type is known only per token
			return nil, errors.New(`match: expression gives a claim's value (dyn), want bool: compare it, e.g. claims.sub == "..." or claims.email_verified == true`)
		}
		return nil, fmt.Errorf("match: expression gives %s, want bool", t)
	}
	prg, err := env.Program(ast, cel.CostLimit(CostLimit), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	return &Match{source: expr, program: prg}, nil
}

// String is the expression as written.
func (m *Match) String() string { return m.source }

// Eval runs the expression over claims. An error (a claim the expression
// reads is missing, the cost limit reached, a type mismatch) is a refusal
// whose message says why.
func (m *Match) Eval(claims map[string]any) (bool, error) {
	out, _, err := m.program.Eval(map[string]any{"claims": claims})
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("expression gave %v, want a bool", out.Value())
	}
	return b, nil
}
