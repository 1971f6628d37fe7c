// Package adminclient is the HTTP client of the admin API that the CLI
// uses: it gets an admin token with the credentials file (client
// credentials grant) and sends JSON requests under /admin/v1.
package adminclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse/gatehouse/internal/admin"
)

// Client calls one gatehouse's admin API.
type Client struct {
	base string
	http *http.Client
}

// New returns a client for the admin API at baseURL, authenticated with creds.
func New(ctx context.Context, baseURL string, creds admin.CredentialsFile) *Client {
	cc := clientcredentials.Config{
		ClientID: creds.ClientID, ClientSecret: creds.ClientSecret, TokenURL: creds.TokenURL,
		EndpointParams: url.Values{"audience": {creds.Audience}},
		AuthStyle:      oauth2.AuthStyleInHeader,
	}
	base := &http.Client{Timeout: 30 * time.Second}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, base)
	hc := cc.Client(ctx)
	hc.Timeout = 30 * time.Second
	// The oauth2 transport puts the admin token on every request, a
	// redirected one too, whatever its host: follow none (a 3xx is an
	// error naming the status).
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Client{base: strings.TrimSuffix(baseURL, "/"), http: hc}
}

// Error is an error answer from the admin API.
type Error struct {
	Status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *Error) Error() string {
	if e.Description != "" {
		return e.Description
	}
	return fmt.Sprintf("%s (HTTP %d)", e.Code, e.Status)
}

// Do sends method path with in as JSON (unless nil) and decodes the answer into out (unless nil).
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return fmt.Errorf("getting an admin token: %s %s", re.ErrorCode, re.ErrorDescription)
		}
		return fmt.Errorf("calling the admin API at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		e := &Error{Status: resp.StatusCode}
		if json.Unmarshal(data, e) != nil || e.Code == "" {
			e.Code = http.StatusText(resp.StatusCode)
		}
		return e
	}
	if out != nil && len(data) > 0 {
		return json.Unmarshal(data, out)
	}
	return nil
}

// Path joins path segments, escaping each (audiences hold '/' and ':').
func Path(segments ...string) string {
	var b strings.Builder
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}
