-- Global limits and quotas (internal/limits): one shared counter per
-- subject and window ('client:ID:h', 'tenant:ID:d', ...). Nodes lease
-- budgets from it in chunks; last_grant is what the latest lease got.
CREATE TABLE limit_counters (
    counter_key  TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    used         BIGINT NOT NULL,
    last_grant   BIGINT NOT NULL DEFAULT 0,
    expires_at   BIGINT NOT NULL,
    PRIMARY KEY (counter_key, window_start)
);
CREATE INDEX limit_counters_expiry ON limit_counters(expires_at);

-- Whether a tenant's or client's limits refuse ('' or 'enforce') or only
-- log ('log-only') what goes over them.
ALTER TABLE tenants ADD COLUMN limit_mode TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN limit_mode TEXT NOT NULL DEFAULT '';
