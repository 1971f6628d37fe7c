package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/logging"
)

// This file runs real gatehouse processes for the multi-node tests: the
// binary built from this module, as an operator runs it.

// moduleRoot is the directory above the test's working directory that holds go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's working directory")
		}
		dir = parent
	}
}

// buildGatehouse builds ./cmd/gatehouse into a directory that lives as long as t.
func buildGatehouse(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gatehouse")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/gatehouse")
	cmd.Dir = moduleRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/gatehouse: %v\n%s", err, out)
	}
	t.Logf("built gatehouse in %s", time.Since(start).Round(time.Millisecond))
	return bin
}

// freeAddr returns a loopback address nothing listens on (a moment ago).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// newKEK returns a key-encryption key in GATEHOUSE_KEK's form.
func newKEK() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// procEnv is this process's environment without GATEHOUSE_* settings, plus kek.
func procEnv(kek string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GATEHOUSE_") {
			env = append(env, kv)
		}
	}
	return append(env, "GATEHOUSE_KEK="+kek)
}

// proc is one `gatehouse serve` process.
type proc struct {
	t      *testing.T
	name   string
	url    string
	dir    string
	cmd    *exec.Cmd
	logs   *logging.Buffer
	exited chan struct{}
	http   *http.Client
}

// startProc runs `gatehouse serve` with its own address and data dir plus
// args, and waits until it answers /readyz. It is stopped when t ends.
func startProc(t *testing.T, bin, name string, env []string, args ...string) *proc {
	t.Helper()
	return startProcIn(t, bin, name, filepath.Join(t.TempDir(), name), env, args...)
}

// startProcIn is startProc with the data directory dir (a restart).
func startProcIn(t *testing.T, bin, name, dir string, env []string, args ...string) *proc {
	t.Helper()
	addr := freeAddr(t)
	p := &proc{t: t, name: name, url: "http://" + addr, dir: dir, logs: &logging.Buffer{},
		exited: make(chan struct{}), http: &http.Client{Timeout: 5 * time.Second}}
	p.cmd = exec.Command(bin, append([]string{"serve", "--addr", addr, "--data-dir", p.dir}, args...)...)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: starting gatehouse: %v", name, err)
	}
	go func() { p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.stop)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := p.http.Get(p.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("%s exited before it was ready:\n%s", name, p.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready within 20s:\n%s", name, p.logs.String())
		}
	}
}

// stop ends the process gracefully (SIGTERM), or kills it after 10 s.
func (p *proc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.t.Errorf("%s did not stop within 10s of SIGTERM", p.name)
		p.kill()
	}
}

// kill ends the process at once (SIGKILL) and waits for it.
func (p *proc) kill() {
	p.cmd.Process.Kill()
	<-p.exited
}

// admin is an admin API client of this node with creds (from any node).
func (p *proc) admin(creds admin.CredentialsFile) *adminclient.Client {
	creds.TokenURL = p.url + "/oauth/token"
	return adminclient.New(context.Background(), p.url, creds)
}

// post sends a form and returns the status and body; a transport error is status 0.
func (p *proc) post(path string, form url.Values) (int, []byte) {
	resp, err := p.http.PostForm(p.url+path, form)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// token asks for an access token by a form post.
func (p *proc) token(clientID, secret, audience string) (int, tokenResponse) {
	status, body := p.post("/oauth/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {clientID}, "client_secret": {secret}, "audience": {audience}})
	var resp tokenResponse
	json.Unmarshal(body, &resp)
	return status, resp
}

// active introspects tok as the client it was issued to.
func (p *proc) active(clientID, secret, tok string) (bool, error) {
	status, body := p.post("/oauth/introspect", url.Values{"client_id": {clientID}, "client_secret": {secret}, "token": {tok}})
	if status != 200 {
		return false, fmt.Errorf("%s: introspect: %d %s", p.name, status, body)
	}
	var out struct {
		Active bool `json:"active"`
	}
	err := json.Unmarshal(body, &out) // before reading out: a return's operands have no set order
	return out.Active, err
}

// jwks returns the key ids this node publishes.
func (p *proc) jwks() (map[string]bool, error) {
	resp, err := p.http.Get(p.url + "/.well-known/jwks.json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return nil, err
	}
	kids := map[string]bool{}
	for _, k := range set.Keys {
		kids[k.KID] = true
	}
	return kids, nil
}

// kidOf reads the kid from a JWT's header (unverified: the test compares
// it with the JWKS, which is the point).
func kidOf(jwt string) string {
	head, _, _ := strings.Cut(jwt, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	var h struct {
		KID string `json:"kid"`
	}
	json.Unmarshal(raw, &h)
	return h.KID
}
