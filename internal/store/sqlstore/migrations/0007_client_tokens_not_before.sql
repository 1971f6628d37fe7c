-- When a client was last disabled (store.Client.TokensNotBefore, Unix
-- microseconds; 0: never): its admin tokens and console sessions issued
-- before then stay refused after it is enabled again.
ALTER TABLE clients ADD COLUMN tokens_not_before BIGINT NOT NULL DEFAULT 0;
