package server

import (
	"fmt"
	"strings"
	"time"
)

// The cases of TestOpenAPIValidatesAdminTraffic for the operations added
// after the document was first written: tenant rename, trust test, and
// deleting tenants and environments with and without cascade.

// tenantRenameCases rename tenant acme and try the malformed renames.
func tenantRenameCases(r, w string) []adminCase {
	return []adminCase{
		{"PATCH", "/admin/v1/tenants/acme", w, `{"name":"Acme Inc"}`, 200, true},
		{"PATCH", "/admin/v1/tenants/acme", w, `{"name":"Acme","limits":{"quota_day":1000,"mode":"log-only"}}`, 200, true},
		{"PATCH", "/admin/v1/tenants/acme", w, `{}`, 400, false},
		{"PATCH", "/admin/v1/tenants/acme", w, `{"name":""}`, 400, false},
		{"PATCH", "/admin/v1/tenants/acme", w, `{"name":"` + strings.Repeat("a", 201) + `"}`, 400, false},
		{"PATCH", "/admin/v1/tenants/acme", w, `{"id":"acme2"}`, 400, false},
		// A key given twice: JSON Schema cannot say it, the server refuses it.
		{"PATCH", "/admin/v1/tenants/acme", w, `{"name":"A","name":"B"}`, 400, true},
		{"PATCH", "/admin/v1/tenants/nope", w, `{"name":"Nope"}`, 404, true},
		{"PATCH", "/admin/v1/tenants/acme", r, `{"name":"Acme"}`, 403, false},
	}
}

// trustTestCases test an unsigned token against trust (whose rule "main"
// matches sub repo:acme/app): the alg check refuses it before any key is
// fetched, and the rules still run over its claims.
func trustTestCases(trust, r string) []adminCase {
	tok := b64JSON(map[string]any{"alg": "HS256", "typ": "JWT"}) + "." + b64JSON(map[string]any{
		"iss": "https://ci.example.com", "sub": "repo:acme/app", "aud": "gatehouse",
		"exp": time.Now().Add(time.Minute).Unix(),
	}) + ".c2ln"
	body := fmt.Sprintf(`{"token":%q}`, tok)
	test := trust + "/test"
	return []adminCase{
		{"POST", test, r, body, 200, true},
		{"POST", test, r, `{"token":"not-a-jwt"}`, 400, true},
		{"POST", test, r, `{"token":""}`, 400, false},
		{"POST", test, r, `{}`, 400, false},
		{"POST", test, r, fmt.Sprintf(`{"token":%q,"client":"x"}`, tok), 400, false},
		{"POST", test, r, fmt.Sprintf(`{"token":%q,"token":%q}`, tok, tok), 400, true},
		{"POST", strings.TrimSuffix(trust, "/ci") + "/nope/test", r, body, 404, true},
		{"POST", test, "", body, 401, false},
	}
}

// refusedDeleteCases run while environment acme/qa holds a client: the
// deletes without cascade are refused with in_use.
func refusedDeleteCases(r, w string) []adminCase {
	return []adminCase{
		{"DELETE", "/admin/v1/tenants/acme", w, "", 409, true},
		{"DELETE", "/admin/v1/tenants/acme?cascade=false", w, "", 409, true},
		{"DELETE", "/admin/v1/environments/acme/qa", w, "", 409, true},
		{"DELETE", "/admin/v1/environments/acme/qa?cascade=maybe", w, "", 400, false},
		{"DELETE", "/admin/v1/tenants/acme?cascade=maybe", w, "", 400, false},
		{"DELETE", "/admin/v1/environments/acme/nope", w, "", 404, true},
		{"DELETE", "/admin/v1/environments/nope/qa", w, "", 404, true},
		{"DELETE", "/admin/v1/tenants/nope", w, "", 404, true},
		{"DELETE", "/admin/v1/environments/acme/qa", r, "", 403, false},
		{"DELETE", "/admin/v1/tenants/acme", r, "", 403, false},
	}
}

// cascadeDeleteCases delete an environment with its client, an empty
// one, and then tenant acme with what is left.
func cascadeDeleteCases(w string) []adminCase {
	return []adminCase{
		{"POST", "/admin/v1/environments", w, `{"tenant":"acme","id":"dev"}`, 201, true},
		{"POST", "/admin/v1/clients", w, `{"tenant":"acme","environment":"dev","name":"d"}`, 201, true},
		{"DELETE", "/admin/v1/environments/acme/dev", w, "", 409, true},
		{"DELETE", "/admin/v1/environments/acme/dev?cascade=true", w, "", 200, true},
		{"DELETE", "/admin/v1/environments/acme/dev", w, "", 404, true},
		{"DELETE", "/admin/v1/environments/acme/qa", w, "", 200, true},
		{"POST", "/admin/v1/environments", w, `{"tenant":"acme","id":"prod"}`, 201, true},
		{"POST", "/admin/v1/clients", w, `{"tenant":"acme","environment":"","name":"org-wide"}`, 201, true},
		{"DELETE", "/admin/v1/tenants/acme", w, "", 409, true},
		{"DELETE", "/admin/v1/tenants/acme?cascade=true", w, "", 200, true},
		{"DELETE", "/admin/v1/tenants/acme", w, "", 404, true},
		{"GET", "/admin/v1/tenants/acme", w, "", 404, true},
	}
}

// inputBoundCases break the admin input rules of validate.go that the
// document states too (lengths, counts, repeats): both refuse them.
func inputBoundCases(api, w string) []adminCase {
	return []adminCase{
		{"POST", "/admin/v1/clients", w, `{"tenant":"acme","name":"x","grants":{"https://api.example.io":["read","read"]}}`, 400, false},
		{"POST", "/admin/v1/clients", w, `{"tenant":"acme","name":"` + strings.Repeat("n", 201) + `"}`, 400, false},
		{"POST", "/admin/v1/clients", w, `{"tenant":"acme","name":"x","client_id":"has space"}`, 400, false},
		{"POST", "/admin/v1/clients", w, `{"tenant":"acme","name":"x","grants":{"https://` + strings.Repeat("a", 510) + `":[]}}`, 400, false},
		{"POST", "/admin/v1/clients", w, `{"tenant":"Not A Slug","name":"x"}`, 400, false},
		{"POST", "/admin/v1/clients", w, `{"tenant":"acme","environment":"Not A Slug","name":"x"}`, 400, false},
		{"POST", "/admin/v1/apis", w, `{"audience":"https://y.example.io","service":"` + strings.Repeat("s", 64) + `"}`, 400, false},
		{"PATCH", api, w, `{"scopes":[{"name":"read","description":"` + strings.Repeat("d", 501) + `"}]}`, 400, false},
	}
}
