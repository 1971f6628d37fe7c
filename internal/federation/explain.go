package federation

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// maxTokenBytes bounds a token Decode reads, as assertion does.
const maxTokenBytes = 16 << 10

// Report is what `gatehouse trust test` shows: the token decoded, each of
// the trust's checks and rules, and the outcome.
type Report struct {
	Header map[string]any `json:"header"`
	Claims map[string]any `json:"claims"`
	// Accepted: the token passes every check and exactly one rule (or
	// the first, for a request naming its client) matches.
	Accepted bool         `json:"accepted"`
	Verdict  TrustVerdict `json:"verdict"`
	// Summary says in one sentence what the token endpoint would do.
	Summary string `json:"summary"`
}

// Decode splits a compact JWS into its header and claims without
// verifying anything, for display. It is the subject-token parser that
// `trust test` shows operators; it refuses anything but three base64url
// parts whose first two are JSON objects, and tokens over 16 KiB.
func Decode(raw string) (header, claims map[string]any, err error) {
	if raw == "" || len(raw) > maxTokenBytes {
		return nil, nil, errors.New("the token is empty or larger than 16 KiB")
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, nil, errors.New("the token is not a compact JWS (three dot-separated parts)")
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return nil, nil, errors.New("a part of the token is not base64url: " + err.Error())
		}
		if err := json.Unmarshal(b, dst); err != nil || *dst == nil {
			return nil, nil, errors.New("a part of the token is not a JSON object")
		}
	}
	return header, claims, nil
}

// Test runs t's checks and rules over raw and explains each verdict. It
// changes nothing: a single-use jti is not consumed. Where the checks
// fail, the rules still run over the unverified claims, so that an
// operator sees whether they would match.
func (e *Engine) Test(ctx context.Context, t *Trust, raw string) (Report, error) {
	header, claims, err := Decode(raw)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Header: header, Claims: claims}
	verified, err := e.verify(ctx, t, raw)
	rep.Verdict = TrustVerdict{Trust: t.Key(), Checks: checks(t, err)}
	for i, c := range rep.Verdict.Checks {
		if c.Name == "jti" && c.Result == "ok" {
			// Test consumes nothing, so it cannot tell a used jti from
			// a fresh one: say so rather than let "ok" promise it.
			rep.Verdict.Checks[i].Detail = "present; whether it was used already is not checked here"
		}
	}
	if err != nil {
		rep.Verdict.Error = err.Error()
	} else {
		claims = verified.Raw
	}
	rep.Verdict.Rules = ruleVerdicts(t, claims, "", "")
	matched := 0
	for _, r := range rep.Verdict.Rules {
		if r.Result == ResultMatched {
			matched++
		}
	}
	switch {
	case err != nil:
		rep.Summary = "refused: the token fails the trust's checks (" + err.Error() + ")"
	case matched == 0:
		rep.Summary = "refused: no rule matches"
	case matched > 1:
		rep.Summary = "accepted only with client_id: several rules match, so the request must name its client"
		rep.Accepted = true
	default:
		rep.Summary = "accepted"
		rep.Accepted = true
	}
	return rep, nil
}
