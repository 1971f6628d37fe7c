-- The change feed that every node follows to keep its in-memory copies
-- current (store.ChangeFeed). Ids come from the one-row counter, which a
-- writing transaction holds locked until it commits: ids are gap-free and
-- become visible in order.
CREATE TABLE change_counter (
    one      INTEGER PRIMARY KEY CHECK (one = 1),
    last_id  BIGINT NOT NULL
);
INSERT INTO change_counter (one, last_id) VALUES (1, 0);

CREATE TABLE changes (
    id          BIGINT PRIMARY KEY,
    kind        TEXT NOT NULL,
    entity_key  TEXT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX changes_at ON changes(at);

-- At most one next key per algorithm, so that nodes rotating at once
-- agree on one. Extra next keys left by earlier races never signed: drop
-- all but the oldest.
DELETE FROM signing_keys WHERE state = 'next' AND EXISTS (
    SELECT 1 FROM signing_keys o WHERE o.alg = signing_keys.alg AND o.state = 'next'
       AND (o.created_at < signing_keys.created_at OR (o.created_at = signing_keys.created_at AND o.kid < signing_keys.kid)));
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys(alg) WHERE state = 'next';
