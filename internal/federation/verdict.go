package federation

import (
	"errors"

	"github.com/gatehouse/gatehouse/internal/assertion"
)

// TrustVerdict is what one trust made of a token: each check in order,
// then each rule.
type TrustVerdict struct {
	Trust  string        `json:"trust"`
	Checks []Check       `json:"checks"`
	Rules  []RuleVerdict `json:"rules"`
	// Error is the failed check's detail, when one failed.
	Error string `json:"error,omitempty"`
}

// Check is the verdict of one check of a token.
type Check struct {
	Name   string `json:"name"`
	Result string `json:"result"` // ok, failed, not checked, skipped
	Detail string `json:"detail,omitempty"`
}

// RuleVerdict is the verdict of one rule.
type RuleVerdict struct {
	Rule   string `json:"rule"`
	Client string `json:"client"`
	Result string `json:"result"`
	Detail string `json:"detail,omitempty"`
}

// Results of a rule.
const (
	ResultMatched      = "matched"
	ResultNoMatch      = "no match"
	ResultError        = "error"
	ResultOtherClient  = "other client"
	ResultNotEvaluated = "not evaluated"
)

// checkOrder names the checks in the order assertion.Verify makes them,
// each with the refusal that means it failed.
var checkOrder = []struct {
	name   string
	reason error
}{
	{"format", assertion.ErrMalformed},
	{"alg", assertion.ErrAlgorithm},
	{"key", assertion.ErrUnknownKey},
	{"signature", assertion.ErrSignature},
	{"iss", assertion.ErrIssuer},
	{"aud", assertion.ErrAudience},
	{"exp", assertion.ErrExpired},
	{"nbf", assertion.ErrNotYetValid},
	{"max_age", assertion.ErrTooOld},
	{"jti", assertion.ErrMissingJTI},
}

// checks turns Verify's outcome into each check's verdict: those before
// the failed one passed, those after were not reached.
func checks(t *Trust, err error) []Check {
	failed := -1
	if err != nil {
		failed = 0 // an error of no known reason counts against the format
		for i, c := range checkOrder {
			if errors.Is(err, c.reason) {
				failed = i
				break
			}
		}
	}
	out := make([]Check, len(checkOrder))
	for i, c := range checkOrder {
		out[i].Name = c.name
		switch {
		case c.name == "max_age" && t.MaxAge == 0:
			out[i].Result = "skipped"
			out[i].Detail = "the trust sets no max_age"
		case c.name == "jti" && !t.SingleUse:
			out[i].Result = "skipped"
			out[i].Detail = "the trust is not single-use"
		case failed < 0 || i < failed:
			out[i].Result = "ok"
		case i == failed:
			out[i].Result, out[i].Detail = "failed", err.Error()
		default:
			out[i].Result = "not checked"
		}
	}
	return out
}
