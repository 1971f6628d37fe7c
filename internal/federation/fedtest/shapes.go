package fedtest

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// The claim shapes of three real issuers, as their documentation gives
// them: Kubernetes projected service-account tokens (the TokenRequest
// API), GitHub Actions OIDC tokens, and SPIFFE JWT-SVIDs (as SPIRE issues
// them). Each returns a fresh map the test may change before Sign.

// Kubernetes is a projected service-account token of namespace/name for
// audience aud.
func Kubernetes(iss, namespace, name, aud string, l Lifetime) map[string]any {
	return l.stamp(map[string]any{
		"iss": iss,
		"sub": "system:serviceaccount:" + namespace + ":" + name,
		"aud": []any{aud},
		"jti": newID(),
		"kubernetes.io": map[string]any{
			"namespace": namespace,
			"node":      map[string]any{"name": "node-1", "uid": "5f0f3c7e-1d1a-4c55-9d0e-0b6b8e3f0c11"},
			"pod":       map[string]any{"name": name + "-7d9c6b5f4-x2x9q", "uid": "2b1b0f34-6a0b-4d6f-9a53-1d0e3c8e7a21"},
			"serviceaccount": map[string]any{
				"name": name, "uid": "c2d5a4e0-8f3b-4f5b-a4a6-7a2f0e5d9b10",
			},
		},
	})
}

// GitHubActions is a GitHub Actions OIDC token of a job in repo (owner/name)
// on ref, in environment env ("" for none), for audience aud.
func GitHubActions(iss, repo, ref, env, aud string, l Lifetime) map[string]any {
	owner, _, _ := strings.Cut(repo, "/")
	sub := "repo:" + repo + ":ref:" + ref
	if env != "" {
		sub = "repo:" + repo + ":environment:" + env
	}
	c := map[string]any{
		"iss": iss, "sub": sub, "aud": aud, "jti": newID(),
		"ref": ref, "ref_type": "branch", "ref_protected": "true",
		"sha":        "example0000000000000000000000000000000000",
		"repository": repo, "repository_id": "74", "repository_owner": owner, "repository_owner_id": "65",
		"repository_visibility": "private",
		"run_id":                "1234567890", "run_number": "42", "run_attempt": "1",
		"actor": "octocat", "actor_id": "583231", "event_name": "push",
		"workflow":           "deploy",
		"workflow_ref":       repo + "/.github/workflows/deploy.yml@" + ref,
		"job_workflow_ref":   repo + "/.github/workflows/deploy.yml@" + ref,
		"runner_environment": "github-hosted",
		"head_ref":           "", "base_ref": "",
	}
	if env != "" {
		c["environment"] = env
	}
	return l.stamp(c)
}

// SPIFFE is a JWT-SVID of spiffeID (spiffe://trust-domain/path) for
// audience aud, as SPIRE's OIDC discovery provider's issuer iss signs it.
func SPIFFE(iss, spiffeID, aud string, l Lifetime) map[string]any {
	c := l.stamp(map[string]any{"iss": iss, "sub": spiffeID, "aud": []any{aud}})
	delete(c, "nbf") // JWT-SVIDs carry exp and often iat, not nbf
	return c
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
