ALTER TABLE tenants ADD COLUMN quota_hour BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN quota_day BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN rate_limit BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN quota_hour BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN quota_day BIGINT NOT NULL DEFAULT 0;
ALTER TABLE apis ADD COLUMN reuse_window BIGINT NOT NULL DEFAULT 0;

CREATE TABLE opaque_tokens (
    hash        TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL,
    audience    TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    tenant      TEXT NOT NULL,
    environment TEXT NOT NULL,
    service     TEXT NOT NULL,
    jti         TEXT NOT NULL,
    issued_at   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX opaque_tokens_expiry ON opaque_tokens(expires_at);

CREATE TABLE revocations (
    jti         TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL,
    revoked_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX revocations_revoked ON revocations(revoked_at);

CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY,
    at          BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    target      TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX audit_events_at ON audit_events(at);
CREATE INDEX audit_events_client ON audit_events(client_id, at);
