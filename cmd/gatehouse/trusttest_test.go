package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/federation"
	"github.com/gatehouse/gatehouse/internal/federation/fedtest"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/servertest"
	"github.com/gatehouse/gatehouse/internal/store"
)

// TestTrustTestCommand: `trust test` prints the verdicts as text and as
// JSON, and refuses bad arguments plainly.
func TestTrustTestCommand(t *testing.T) {
	g := servertest.Start(t, nil, server.Options{})
	t.Setenv("GATEHOUSE_URL", g.URL)
	t.Setenv("GATEHOUSE_CREDENTIALS", g.Server.CredentialsPath())
	k8s := fedtest.NewStatic("https://kubernetes.default.svc.cluster.local", "ES256")
	if out, err := run(t, "", "tenant", "create", "acme"); err != nil {
		t.Fatalf("tenant create: %v\n%s", err, out)
	}
	now := time.Now()
	if err := g.Server.Store().CreateTrust(t.Context(), store.Trust{Tenant: "acme", Name: "cluster", Issuer: k8s.URL, JWKS: k8s.JWKS(),
		Audiences: []string{"gatehouse"}, CreatedAt: now, UpdatedAt: now,
		Rules: []store.TrustRule{{Name: "export", Client: "c1", Match: `claims.sub == "system:serviceaccount:billing:export"`}}}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "token")
	writeFile(t, file, k8s.Sign(fedtest.Kubernetes(k8s.URL, "billing", "report", "gatehouse", fedtest.Lifetime{}))+"\n")

	out, err := run(t, "", "trust", "test", "acme/cluster", "--token-file", file)
	if err != nil {
		t.Fatalf("trust test: %v\n%s", err, out)
	}
	for _, want := range []string{"refused: no rule matches", `"sub": "system:serviceaccount:billing:report"`, "signature  ok", "export  c1      no match"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	var rep federation.Report
	mustJSON(t, &rep, "trust", "test", "acme/cluster", "--token-file", file)
	if rep.Accepted || rep.Header["alg"] != "ES256" || rep.Verdict.Rules[0].Result != federation.ResultNoMatch {
		t.Errorf("-o json: got %+v, want refused, ES256, rule export no match", rep)
	}
	out, err = run(t, k8s.Sign(fedtest.Kubernetes(k8s.URL, "billing", "export", "gatehouse", fedtest.Lifetime{})), "trust", "test", "acme/cluster", "--token-file", "-")
	if err != nil || !strings.HasPrefix(out, "accepted") {
		t.Errorf("token on stdin: got %v\n%s, want accepted", err, out)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"trust", "test", "acme", "--token-file", file}, "TENANT/NAME"},
		{[]string{"trust", "test", "acme/cluster"}, "--token-file"},
		{[]string{"trust", "test", "acme/nope", "--token-file", file}, "not found"},
		{[]string{"trust", "test", "acme/cluster", "--token-file", filepath.Join(t.TempDir(), "missing")}, "reading the token"},
	} {
		if out, err := run(t, "", tt.args...); err == nil || !strings.Contains(err.Error()+out, tt.want) {
			t.Errorf("gatehouse %s: got %v, want an error containing %q", strings.Join(tt.args, " "), err, tt.want)
		}
	}
}

// When the checks fail, the text report says that the rules ran over
// unverified claims, so "no match" beside a wrong aud is not read as the
// reason for the refusal.
func TestPrintTrustReportFailedChecks(t *testing.T) {
	rules := []federation.RuleVerdict{{Rule: "export", Client: "c1", Result: federation.ResultNoMatch}}
	tests := []struct {
		name     string
		err      string
		wantNote bool
	}{
		{"checks passed", "", false},
		{"checks failed", "assertion: wrong audience", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			rep := federation.Report{Summary: "refused", Verdict: federation.TrustVerdict{Trust: "acme/cluster", Error: tt.err, Rules: rules}}
			if err := printTrustReport(&b, rep); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(b.String(), "unverified claims"); got != tt.wantNote {
				t.Errorf("note on unverified claims: got %v, want %v\n%s", got, tt.wantNote, b.String())
			}
		})
	}
}
