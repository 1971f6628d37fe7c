package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/secret"
	"github.com/gatehouse/gatehouse/internal/store"
)

// CredentialsFile is what <data-dir>/admin-client.json holds: enough for the
// CLI (or any OAuth client) to get an admin token.
type CredentialsFile struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	TokenURL     string `json:"token_url"`
	Audience     string `json:"audience"`
}

// Bootstrap makes sure the built-in admin API exists and that some client
// may use it. When it has to create that client, it writes its credentials
// to path (mode 0600) and reports created; the secret is never logged.
func Bootstrap(ctx context.Context, st store.Store, path, tokenURL string, now time.Time) (created bool, err error) {
	api := store.API{
		Audience: store.AdminAudience, Name: "gatehouse admin API",
		Scopes:   []store.Scope{{Name: store.ScopeRead, Description: "read tenants, APIs, clients, keys and audit"}, {Name: store.ScopeWrite, Description: "change them"}},
		TokenTTL: 15 * time.Minute, TokenFormat: store.FormatJWT, SigningAlg: "ES256", BuiltIn: true,
		CreatedAt: now, UpdatedAt: now,
	}
	introspect := store.API{
		Audience: store.IntrospectAudience, Name: "gatehouse introspection",
		Scopes:   []store.Scope{{Name: store.ScopeIntrospect, Description: "introspect and revoke any client's tokens, list revocations"}},
		TokenTTL: 15 * time.Minute, TokenFormat: store.FormatJWT, SigningAlg: "ES256", BuiltIn: true,
		CreatedAt: now, UpdatedAt: now,
	}
	for _, a := range []store.API{api, introspect} {
		if err := st.CreateAPI(ctx, a); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			return false, fmt.Errorf("creating the built-in API %s: %w", a.Audience, err)
		}
	}
	if found, err := hasAdminClient(ctx, st); err != nil || found {
		if err != nil {
			return false, err
		}
		return false, refreshTokenURL(path, tokenURL)
	}
	plain := secret.New()
	c := store.Client{
		ID: secret.NewClientID(), Name: "bootstrap admin",
		Grants:    map[string][]string{store.AdminAudience: {store.ScopeRead, store.ScopeWrite}},
		Secrets:   []store.Secret{{ID: secret.RandomAlnum(8), Hash: secret.HashFast(plain), CreatedAt: now}},
		CreatedAt: now, UpdatedAt: now,
	}
	// The file first: a crash between the two leaves a file naming a client
	// that does not exist (the next start makes a new one and rewrites the
	// file), never a client nobody holds the secret of.
	creds := CredentialsFile{ClientID: c.ID, ClientSecret: plain, TokenURL: tokenURL, Audience: store.AdminAudience}
	if err := WriteCredentials(path, creds); err != nil {
		return false, err
	}
	if err := st.CreateClient(ctx, c); err != nil {
		_ = os.Remove(path)
		return false, fmt.Errorf("creating the bootstrap admin client: %w", err)
	}
	return true, nil
}

// refreshTokenURL keeps an existing credentials file's token_url pointing at
// where this node listens now (the address may have changed since it was
// written). A missing file is left missing.
func refreshTokenURL(path, tokenURL string) error {
	creds, err := ReadCredentials(path)
	if err != nil || creds.TokenURL == tokenURL {
		return nil
	}
	creds.TokenURL = tokenURL
	return WriteCredentials(path, creds)
}

// WriteCredentials writes creds to path with mode 0600, replacing any file.
func WriteCredentials(path string, creds CredentialsFile) error {
	data, err := json.MarshalIndent(creds, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ReadCredentials reads an admin-client.json.
func ReadCredentials(path string) (CredentialsFile, error) {
	var c CredentialsFile
	data, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("%s is not a credentials file: %w", path, err)
	}
	if c.ClientID == "" || c.ClientSecret == "" || c.TokenURL == "" {
		return c, fmt.Errorf("%s lacks client_id, client_secret or token_url", path)
	}
	if c.Audience == "" {
		c.Audience = store.AdminAudience
	}
	return c, nil
}

// errFound ends a scan of the clients early.
var errFound = errors.New("found")

// hasAdminClient reports whether some client holds a grant on the admin
// API, reading clients one at a time where the store can (a store of a
// million clients is not listed whole at every start).
func hasAdminClient(ctx context.Context, st store.Store) (bool, error) {
	isAdmin := func(c store.Client) bool { _, ok := c.Grants[store.AdminAudience]; return ok }
	if s, ok := st.(catalog.ClientStreamer); ok {
		err := s.EachClient(ctx, func(c store.Client) error {
			if isAdmin(c) {
				return errFound
			}
			return nil
		})
		if errors.Is(err, errFound) {
			return true, nil
		}
		return false, err
	}
	clients, err := st.ListClients(ctx)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(clients, isAdmin), nil
}
