package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/binding"
)

// maxAnswerBytes bounds what the gateway reads from gatehouse.
const maxAnswerBytes = 4 << 20

// gatehouseClient makes the gateway's calls to gatehouse, authenticated as
// the gateway's client (client_secret_post, RFC 6749 §2.3.1).
type gatehouseClient struct {
	base     string
	clientID string
	secret   string
	http     *http.Client
}

// introspection is the RFC 7662 answer, with gatehouse's own fields.
type introspection struct {
	Active      bool   `json:"active"`
	Scope       string `json:"scope"`
	ClientID    string `json:"client_id"`
	Expiry      int64  `json:"exp"`
	IssuedAt    int64  `json:"iat"`
	Audience    string `json:"aud"`
	Issuer      string `json:"iss"`
	JTI         string `json:"jti"`
	Tenant      string `json:"tenant"`
	Environment string `json:"environment"`
	Service     string `json:"service"`
	APIKey      string `json:"api_key"`
	// Cnf is what the token is bound to (RFC 9449 §6, RFC 8705 §3).
	Cnf *binding.Confirmation `json:"cnf"`
}

// revocation is one revoked JWT id from POST /oauth/revocations.
type revocation struct {
	JTI       string    `json:"jti"`
	ClientID  string    `json:"client_id"`
	RevokedAt time.Time `json:"revoked_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// revocationPage is the answer of POST /oauth/revocations.
type revocationPage struct {
	Revocations []revocation `json:"revocations"`
	Now         int64        `json:"now"`
}

// introspect asks gatehouse about an opaque token (RFC 7662 §2.1).
func (c *gatehouseClient) introspect(ctx context.Context, token string) (introspection, error) {
	var out introspection
	err := c.post(ctx, "/oauth/introspect", url.Values{"token": {token}, "token_type_hint": {"access_token"}}, &out)
	return out, err
}

// revocations lists the JWT ids revoked since the unix time since.
func (c *gatehouseClient) revocations(ctx context.Context, since int64) (revocationPage, error) {
	var out revocationPage
	err := c.post(ctx, "/oauth/revocations?since="+strconv.FormatInt(since, 10), url.Values{}, &out)
	return out, err
}

// post sends form with the gateway's credentials and decodes a 200 answer
// into out. Any other answer is an error naming the RFC 6749 §5.2 error
// code; the token in form never appears in an error.
// credentialedClient is the HTTP client of calls that carry the
// gateway's client_secret: it follows no redirect, since a 307 or 308
// would send the secret again, in the body, wherever Location points.
// A redirect is an error to fix in the configuration (gatehouse.url).
func credentialedClient(t http.RoundTripper, timeout time.Duration) *http.Client {
	return &http.Client{Transport: t, Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

func (c *gatehouseClient) post(ctx context.Context, path string, form url.Values, out any) error {
	form.Set("client_id", c.clientID)
	form.Set("client_secret", c.secret)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	endpoint, _, _ := strings.Cut(path, "?")
	resp, err := c.http.Do(req)
	if err != nil {
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err // the URL is known; keep the cause only
		}
		return fmt.Errorf("calling gatehouse %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return fmt.Errorf("reading gatehouse's %s answer: %w", endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &e)
		return fmt.Errorf("gatehouse %s answered %d %s %s", endpoint, resp.StatusCode, e.Error, e.Description)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("gatehouse %s answer: %w", endpoint, err)
	}
	return nil
}
