package declare

import (
	"strings"
	"testing"
)

// FuzzRead feeds Read arbitrary files: it must answer an error or a file
// whose every object has a key, never panic.
func FuzzRead(f *testing.F) {
	for _, seed := range []string{
		"tenants: [{id: acme, limits: {quota_hour: 3}}]\n",
		"environments: [{tenant: acme, id: qa}]\n",
		"apis: [{audience: https://a.example.io, scopes: [read, {name: w, description: x}], token_ttl: 7d}]\n",
		"clients: [{client_id: c, name: c, tenant: acme, grants: {\"https://a.example.io\": [read]}, jwks: {keys: []}}]\n",
		"trusts: [{tenant: acme, name: k8s, issuer: https://k.example.io, audiences: [a], max_age: 1h, rules: [{name: r, client: c, match: 'claims.sub == \"x\"', scopes: [read], token_ttl: 5m}]}]\n",
		"apis: [{audience: https://a.example.io, accept_exchange_from: [https://b.example.io]}]\n",
		"tenants: &a [{id: x}]\napis: *a\n",
		"{\"tenants\": [{\"id\": \"acme\"}]}",
		"tenants:\n  - id: acme\n---\n",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		file, err := Read(strings.NewReader(doc))
		if err != nil {
			return
		}
		for k, objs := range file.objects {
			for _, o := range objs {
				if o.spec.key() == "" || o.kind != k {
					t.Errorf("Read(%q) gave an object without a key or of another kind: %+v", doc, o)
				}
				_ = o.spec.fields()
				_ = o.spec.refs()
			}
		}
	})
}
