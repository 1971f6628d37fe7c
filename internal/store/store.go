package store

import (
	"context"
	"errors"
	"time"
)

// Errors every backend returns, so callers can test with errors.Is.
var (
	ErrNotFound      = errors.New("not found")
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict is returned when a compare-and-swap update lost a race.
	ErrConflict = errors.New("conflict")
	// ErrUnavailable wraps failures to reach the database at all.
	ErrUnavailable = errors.New("store unavailable")
	// ErrNotSupported is returned by ListenChanges when the database has no
	// notifications (SQLite; CockroachDB and YugabyteDB): nodes poll.
	ErrNotSupported = errors.New("not supported by this database")
)

// Store is the whole persistence contract. Every method takes a context first
// and works on plain values; Update methods run fn inside one transaction on
// the current stored value and store what it returns.
type Store interface {
	CreateTenant(ctx context.Context, t Tenant) error
	GetTenant(ctx context.Context, id string) (Tenant, error)
	ListTenants(ctx context.Context) ([]Tenant, error)
	UpdateTenant(ctx context.Context, id string, fn func(old Tenant) (Tenant, error)) (Tenant, error)

	CreateEnvironment(ctx context.Context, e Environment) error
	GetEnvironment(ctx context.Context, tenant, id string) (Environment, error)
	// ListEnvironments lists one tenant's environments, or all when tenant is "".
	ListEnvironments(ctx context.Context, tenant string) ([]Environment, error)

	CreateAPI(ctx context.Context, a API) error
	GetAPI(ctx context.Context, audience string) (API, error)
	ListAPIs(ctx context.Context) ([]API, error)
	UpdateAPI(ctx context.Context, audience string, fn func(old API) (API, error)) (API, error)
	DeleteAPI(ctx context.Context, audience string) error

	CreateClient(ctx context.Context, c Client) error
	GetClient(ctx context.Context, id string) (Client, error)
	ListClients(ctx context.Context) ([]Client, error)
	UpdateClient(ctx context.Context, id string, fn func(old Client) (Client, error)) (Client, error)
	DeleteClient(ctx context.Context, id string) error

	CreateKey(ctx context.Context, k SigningKey) error
	ListKeys(ctx context.Context) ([]SigningKey, error)
	UpdateKey(ctx context.Context, kid string, fn func(old SigningKey) (SigningKey, error)) (SigningKey, error)
	DeleteKey(ctx context.Context, kid string) error
	// PromoteKey makes the next key kid current and retires every other
	// current key of its algorithm (retiredAt, removeAfter), in one
	// transaction. It reports false, changing nothing, when kid is no
	// longer next: another node promoted it first.
	PromoteKey(ctx context.Context, kid string, retiredAt, removeAfter time.Time) (bool, error)

	TrustStore
	TokenStore
	AuditStore
	ChangeFeed
	CounterStore

	// Shared reports whether several nodes may use this database at once
	// (PostgreSQL), so that what must hold across nodes (single-use ids)
	// goes through it; the embedded SQLite store serves one node.
	Shared() bool
	// Ping reports whether the database can be reached.
	Ping(ctx context.Context) error
	Close() error
}
