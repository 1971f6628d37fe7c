-- Workload identity federation (DESIGN §9): a tenant's trusted outside
-- issuers, each with its rules, kept as one JSON document (store.Trust
-- without tenant, name and times). id is "<tenant>/<name>".
CREATE TABLE trusts (
    id          TEXT PRIMARY KEY,
    tenant      TEXT NOT NULL REFERENCES tenants(id),
    name        TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    doc         TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX trusts_tenant ON trusts(tenant);

-- Delegation by token exchange: the audiences whose tokens may be
-- exchanged for a token to this API (a JSON array of strings).
ALTER TABLE apis ADD COLUMN accept_exchange_from TEXT NOT NULL DEFAULT '[]';
