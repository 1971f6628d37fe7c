CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE environments (
    tenant      TEXT NOT NULL REFERENCES tenants(id),
    id          TEXT NOT NULL,
    api_key     TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE apis (
    audience     TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    token_ttl    BIGINT NOT NULL,
    token_format TEXT NOT NULL,
    signing_alg  TEXT NOT NULL,
    service      TEXT,
    built_in     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX apis_service ON apis(service) WHERE service IS NOT NULL;

CREATE TABLE clients (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    tenant      TEXT NOT NULL,
    environment TEXT NOT NULL,
    grants      TEXT NOT NULL,
    secrets     TEXT NOT NULL,
    disabled    BOOLEAN NOT NULL DEFAULT FALSE,
    token_ttl   BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE signing_keys (
    kid          TEXT PRIMARY KEY,
    alg          TEXT NOT NULL,
    state        TEXT NOT NULL,
    private_key  {{bytes}} NOT NULL,
    public_key   {{bytes}} NOT NULL,
    created_at   BIGINT NOT NULL,
    activates_at BIGINT NOT NULL,
    retired_at   BIGINT,
    remove_after BIGINT
);
