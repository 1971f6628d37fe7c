-- Clients without shared secrets (DESIGN §8): how a client proves itself,
-- as one JSON object (store.ClientAuth); '{}' is a secret client.
ALTER TABLE clients ADD COLUMN auth TEXT NOT NULL DEFAULT '{}';

-- The holder binding of an opaque token (store.Confirmation), '' for a
-- bearer token.
ALTER TABLE opaque_tokens ADD COLUMN cnf TEXT NOT NULL DEFAULT '';

-- One-time identifiers (client assertion and DPoP proof jtis) claimed by
-- any node, kept until they expire.
CREATE TABLE used_ids (
    id          TEXT PRIMARY KEY,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX used_ids_expiry ON used_ids(expires_at);
