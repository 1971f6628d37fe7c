package server

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
)

// clientFrom is an HTTP client whose connections come from the loopback
// address ip (on Linux all of 127.0.0.0/8 is usable as a source).
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 1}}
}

// askToken posts a client credentials request through hc and returns the status (0: no answer).
func askToken(hc *http.Client, base, clientID, secret string) int {
	resp, err := hc.PostForm(base+"/oauth/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {clientID}, "client_secret": {secret}, "audience": {clusterAPI}})
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestGuessingCannotLockOutProcesses measures the failed-authentication
// throttle on a real process: 200 source addresses send wrong secrets
// for one client id as fast as they can while the real client asks every
// cadence from its own address. At least 99% of the real client's requests
// must succeed, and the guesses must be throttled: most answered 429, and
// at most 3 a minute from each address actually checked.
func TestGuessingCannotLockOutProcesses(t *testing.T) {
	const (
		attackers = 200
		run       = 20 * time.Second
		cadence   = 200 * time.Millisecond // the real client's, shortened from 1 s
	)
	bin := buildGatehouse(t)
	node := startProc(t, bin, "node", procEnv(newKEK()), "--issuer", clusterIssuer)
	creds, err := admin.ReadCredentials(filepath.Join(node.dir, "admin-client.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, nodes: []*proc{node}, creds: creds}
	c.admins = append(c.admins, node.admin(creds))
	c.do(0, "POST", "/admin/v1/tenants", map[string]string{"id": "acme"}, nil)
	for _, api := range []string{clusterAPI, clusterTTLAPI} {
		c.do(0, "POST", "/admin/v1/apis", map[string]any{"audience": api, "token_ttl": "1h"}, nil)
	}
	victim := c.newClient("victim")

	var guessed, throttled, otherGuess atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range attackers {
		hc := clientFrom("127.0.1." + strconv.Itoa(i+1))
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				switch askToken(hc, node.url, victim.ClientID, "gatehouse_wrong_guess_"+strconv.Itoa(i)) {
				case 401:
					guessed.Add(1)
				case 429:
					throttled.Add(1)
				default:
					otherGuess.Add(1)
				}
			}
		})
	}
	owner := clientFrom("127.0.2.1")
	var asked, served int
	var refusals []string
	began := time.Now()
	for tick := time.NewTicker(cadence); time.Since(began) < run; <-tick.C {
		asked++
		if s := askToken(owner, node.url, victim.ClientID, victim.ClientSecret); s == 200 {
			served++
		} else {
			refusals = append(refusals, strconv.Itoa(s))
		}
	}
	close(stop)
	wg.Wait()

	guesses := guessed.Load() + throttled.Load() + otherGuess.Load()
	minutes := int64(run/time.Minute) + 1
	t.Logf("%s, %d attackers: the real client got %d of %d (%.1f%%); %d guesses, %d checked (401), %d throttled (429, %.1f%%), %d other",
		run, attackers, served, asked, 100*float64(served)/float64(asked), guesses, guessed.Load(), throttled.Load(),
		100*float64(throttled.Load())/float64(max(guesses, 1)), otherGuess.Load())
	if served*100 < asked*99 {
		t.Errorf("the real client: got %d of %d served (refused: %s), want at least 99%%", served, asked, strings.Join(refusals, " "))
	}
	if checked := guessed.Load(); checked > attackers*3*minutes {
		t.Errorf("guesses checked: got %d, want at most %d (3 a minute from each address)", checked, attackers*3*minutes)
	}
	if throttled.Load()*10 < guesses*9 {
		t.Errorf("guesses throttled: got %d of %d, want at least 90%%", throttled.Load(), guesses)
	}
	if otherGuess.Load() > guesses/100 {
		t.Errorf("guesses answered other than 401 or 429: got %d of %d", otherGuess.Load(), guesses)
	}
}
