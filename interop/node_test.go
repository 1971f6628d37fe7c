package interop

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/servertest"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The Node side: interop/node, installed from its lock file.
const (
	nodeDir        = "node"
	installCommand = "cd interop/node && npm ci"
	// openid-client 6 needs Node.js 20 or later (its README's baseline;
	// its package.json has no engines field).
	minNodeMajor = 20
)

const (
	audience = "https://orders.example.io"
	scope    = "orders:read"
	tenant   = "acme"
)

// requireNode returns the node binary, or stops the test: in CI (CI=true)
// a missing Node.js or node_modules fails it, since .ci/run installs both;
// elsewhere it skips, naming the install command.
func requireNode(t *testing.T) string {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatalf("%s: the openid-client interoperability tests cannot run (.ci/run installs Node.js and runs %q)", msg, installCommand)
		}
		t.Skipf("%s; to run these tests install Node.js >= %d and run %q", msg, minNodeMajor, installCommand)
	}
	bin, err := exec.LookPath("node")
	if err != nil {
		missing("node is not on PATH")
	}
	out, err := exec.Command(bin, "-p", "process.versions.node").Output()
	if err != nil {
		missing("%s -p process.versions.node: %v", bin, err)
	}
	v := strings.TrimSpace(string(out))
	if major, _ := strconv.Atoi(strings.Split(v, ".")[0]); major < minNodeMajor {
		missing("%s is Node.js %s, older than openid-client 6 supports", bin, v)
	}
	pinned, err := packageVersion(filepath.Join(nodeDir, "package.json"), "dependencies", "openid-client")
	if err != nil {
		t.Fatal(err)
	}
	installed, err := packageVersion(filepath.Join(nodeDir, "node_modules", "openid-client", "package.json"), "version")
	switch {
	case err != nil:
		missing("openid-client is not installed in interop/node/node_modules")
	case installed != pinned:
		missing("interop/node/node_modules has openid-client %s, package.json pins %s", installed, pinned)
	}
	return bin
}

// packageVersion reads a string out of a package.json, at path.
func packageVersion(file string, path ...string) (string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return "", fmt.Errorf("%s: %w", file, err)
	}
	for _, k := range path {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s has no %s", file, strings.Join(path, "."))
	}
	return s, nil
}

// clientKey is a client's key pair and its private JWK as m2m.mjs reads it.
type clientKey struct {
	alg     string
	public  jose.JSONWebKey
	keyFile string
}

func newClientKey(t *testing.T, alg string) clientKey {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "RS256", "PS256":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case "EdDSA":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("no key for %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	kid := "interop-" + strings.ToLower(alg)
	// The private JWK names alg so that m2m.mjs imports an RSA key for
	// PSS or PKCS#1 v1.5 signing; the registered public one names it too.
	private := jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: alg, Use: "sig"}
	data, err := private.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), kid+".jwk")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return clientKey{alg: alg, public: private.Public(), keyFile: file}
}

// adminDo calls g's admin API, failing t (g.Do would fail the test that
// started g, which may be a subtest's parent).
func adminDo(t *testing.T, g *servertest.Gatehouse, method, path string, in, out any) {
	t.Helper()
	if err := g.Admin().Do(context.Background(), method, path, in, out); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
}

// startGatehouse runs a node with one tenant and one API.
func startGatehouse(t *testing.T, dpopNonce bool) *servertest.Gatehouse {
	t.Helper()
	g := servertest.Start(t, func(c *config.Config) { c.DPoPNonce = dpopNonce }, server.Options{})
	adminDo(t, g, "POST", "/admin/v1/tenants", map[string]string{"id": tenant}, nil)
	adminDo(t, g, "POST", "/admin/v1/apis", map[string]any{"audience": audience, "token_ttl": "1h",
		"scopes": []map[string]string{{"name": scope}, {"name": "orders:write"}}}, nil)
	return g
}

// registerKeyClient creates a client through the admin API, then makes it
// a private_key_jwt client with key's public half. The admin API does not
// take auth_method and jwks yet, so that part goes to the store, and the
// catalog is told at once rather than when the change feed gets there.
func registerKeyClient(t *testing.T, g *servertest.Gatehouse, name string, key jose.JSONWebKey) string {
	t.Helper()
	var c admin.ClientView
	adminDo(t, g, "POST", "/admin/v1/clients", map[string]any{"name": name, "tenant": tenant,
		"grants": map[string][]string{audience: {scope}}}, &c)
	set, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{key}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := g.Server.Store().UpdateClient(ctx, c.ClientID, func(old store.Client) (store.Client, error) {
		old.Secrets = nil
		old.Auth = store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: string(set)}
		return old, nil
	}); err != nil {
		t.Fatalf("registering %s's key: %v", name, err)
	}
	if err := g.Server.Catalog().RefreshClient(ctx, c.ClientID); err != nil {
		t.Fatal(err)
	}
	return c.ClientID
}

// m2mOutput is what m2m.mjs prints.
type m2mOutput struct {
	Issuer                   string   `json:"issuer"`
	Discovery                string   `json:"discovery"`
	TokenEndpoint            string   `json:"token_endpoint"`
	AuthMethodsSupported     []string `json:"token_endpoint_auth_methods_supported"`
	DPoPSigningAlgsSupported []string `json:"dpop_signing_alg_values_supported"`
	Results                  []struct {
		DPoP      bool    `json:"dpop"`
		TokenType string  `json:"token_type"`
		Scope     string  `json:"scope"`
		ExpiresIn int64   `json:"expires_in"`
		JWT       bool    `json:"jwt"`
		CnfJKT    *string `json:"cnf_jkt"`
		DPoPJKT   string  `json:"dpop_jkt"`
	} `json:"results"`
	Exchanges []struct {
		Method    string `json:"method"`
		URL       string `json:"url"`
		Status    int    `json:"status"`
		DPoPProof bool   `json:"dpop_proof"`
		DPoPNonce bool   `json:"dpop_nonce"`
		Error     string `json:"error"`
	} `json:"exchanges"`
}

// runM2M runs m2m.mjs against g; it returns the parsed output, or the
// process's error and stderr when it failed.
func runM2M(t *testing.T, bin string, g *servertest.Gatehouse, clientID string, key clientKey, extra ...string) (m2mOutput, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "m2m.mjs")
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(), "ISSUER="+g.Config.Issuer, "CLIENT_ID="+clientID,
		"KEY_FILE="+key.keyFile, "AUDIENCE="+audience, "SCOPE="+scope, "KEY_JWK=", "DPOP=", "DPOP_ALG=", "DISCOVERY=")
	cmd.Env = append(cmd.Env, extra...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var out m2mOutput
	if err == nil {
		if jerr := json.Unmarshal(stdout.Bytes(), &out); jerr != nil {
			t.Fatalf("m2m.mjs printed no JSON (%v):\n%s", jerr, stdout.String())
		}
	}
	return out, stderr.String(), err
}

// tokenLogs are the lines gatehouse logged about token requests: why it
// refused one is there, not in the answer.
func tokenLogs(g *servertest.Gatehouse) string {
	var b strings.Builder
	for line := range strings.Lines(g.Logs.String()) {
		if strings.Contains(line, "token") && !strings.Contains(line, "/admin/") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// mustRunM2M is runM2M for a run that must succeed.
func mustRunM2M(t *testing.T, bin string, g *servertest.Gatehouse, clientID string, key clientKey, extra ...string) m2mOutput {
	t.Helper()
	out, stderr, err := runM2M(t, bin, g, clientID, key, extra...)
	if err != nil {
		t.Fatalf("m2m.mjs (%s key, %v): %v\n%s\ngatehouse's token endpoint logged:\n%s", key.alg, extra, err, stderr, tokenLogs(g))
	}
	return out
}

// TestOpenIDClientPrivateKeyJWTAndDPoP drives gatehouse with openid-client:
// discovery (both well-known paths), a private_key_jwt client_credentials
// grant, and a DPoP-bound one, with and without a server nonce.
func TestOpenIDClientPrivateKeyJWTAndDPoP(t *testing.T) {
	bin := requireNode(t)
	for _, tc := range []struct {
		name      string
		discovery string
		nonce     bool
	}{
		{"openid-configuration", "oidc", false},
		{"oauth-authorization-server with DPoP nonce", "oauth2", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := startGatehouse(t, tc.nonce)
			key := newClientKey(t, "ES256")
			id := registerKeyClient(t, g, "orders-worker", key.public)
			out := mustRunM2M(t, bin, g, id, key, "DPOP=1", "DISCOVERY="+tc.discovery)

			if out.Issuer != g.Config.Issuer || out.TokenEndpoint != strings.TrimSuffix(g.Config.Issuer, "/")+"/oauth/token" {
				t.Errorf("discovered issuer %q, token endpoint %q", out.Issuer, out.TokenEndpoint)
			}
			if !slices.Contains(out.AuthMethodsSupported, "private_key_jwt") || !slices.Contains(out.DPoPSigningAlgsSupported, "ES256") {
				t.Errorf("metadata: auth methods %v, DPoP algs %v", out.AuthMethodsSupported, out.DPoPSigningAlgsSupported)
			}
			if len(out.Results) != 2 {
				t.Fatalf("got %d results, want 2: %+v", len(out.Results), out.Results)
			}
			for _, r := range out.Results {
				if r.Scope != scope || r.ExpiresIn <= 0 || r.ExpiresIn > 3600 || !r.JWT {
					t.Errorf("dpop=%v: scope %q, expires_in %d, jwt %v", r.DPoP, r.Scope, r.ExpiresIn, r.JWT)
				}
			}
			plain, bound := out.Results[0], out.Results[1]
			if !strings.EqualFold(plain.TokenType, "Bearer") || plain.CnfJKT != nil {
				t.Errorf("plain grant: token_type %q, cnf.jkt %v", plain.TokenType, plain.CnfJKT)
			}
			if !strings.EqualFold(bound.TokenType, "DPoP") || bound.CnfJKT == nil || *bound.CnfJKT != bound.DPoPJKT || bound.DPoPJKT == "" {
				t.Errorf("DPoP grant: token_type %q, cnf.jkt %v, proof key %q", bound.TokenType, bound.CnfJKT, bound.DPoPJKT)
			}

			// The token requests: with a nonce required, the DPoP one is
			// answered use_dpop_nonce first and openid-client retries.
			var token []string
			for _, e := range out.Exchanges {
				if strings.HasSuffix(e.URL, "/oauth/token") {
					token = append(token, fmt.Sprintf("%d%s%s", e.Status, map[bool]string{true: " dpop"}[e.DPoPProof],
						map[bool]string{true: " " + e.Error}[e.Error != ""]))
				}
			}
			want := []string{"200", "200 dpop"}
			if tc.nonce {
				want = []string{"200", "400 dpop use_dpop_nonce", "200 dpop"}
			}
			if !slices.Equal(token, want) {
				t.Errorf("token endpoint exchanges %q, want %q", token, want)
			}
		})
	}
}

// TestOpenIDClientKeyTypes: openid-client's private_key_jwt and DPoP with
// each key type both sides support, the client key and the DPoP key of
// the same type.
func TestOpenIDClientKeyTypes(t *testing.T) {
	bin := requireNode(t)
	g := startGatehouse(t, false)
	// openid-client signs with an Ed25519 key under RFC 9864's alg name
	// "Ed25519" (not "EdDSA"), for assertions and DPoP proofs alike.
	for _, alg := range []string{"ES256", "RS256", "PS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			key := newClientKey(t, alg)
			id := registerKeyClient(t, g, "worker-"+alg, key.public)
			dpopAlg := alg
			if alg == "EdDSA" {
				dpopAlg = "Ed25519"
			}
			out := mustRunM2M(t, bin, g, id, key, "DPOP=1", "DPOP_ALG="+dpopAlg)
			if len(out.Results) != 2 || out.Results[0].Scope != scope || !strings.EqualFold(out.Results[1].TokenType, "DPoP") {
				t.Errorf("results %+v", out.Results)
			}
		})
	}
}

// TestOpenIDClientWrongKey: an assertion signed with a key the client did
// not register is refused, and m2m.mjs says so with a non-zero exit (the
// tests above would pass vacuously otherwise).
func TestOpenIDClientWrongKey(t *testing.T) {
	bin := requireNode(t)
	g := startGatehouse(t, false)
	registered, other := newClientKey(t, "ES256"), newClientKey(t, "ES256")
	id := registerKeyClient(t, g, "impostor", registered.public)
	_, stderr, err := runM2M(t, bin, g, id, other)
	if err == nil {
		t.Fatal("m2m.mjs succeeded with a key the client never registered")
	}
	if !strings.Contains(stderr, "invalid_client") {
		t.Errorf("m2m.mjs failed, but not with invalid_client:\n%s", stderr)
	}
}
