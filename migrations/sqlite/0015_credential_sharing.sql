-- Whether a credential's public verification link works. A member turns
-- it off and on in the wallet. Credentials themselves are immutable, so
-- the switch lives in its own table, and a credential without a row here
-- is shared.
CREATE TABLE credential_sharing (
    credential_id TEXT PRIMARY KEY REFERENCES credentials (id),
    -- 1 when the link works, 0 when the member turned it off.
    shared        INTEGER NOT NULL CHECK (shared IN (0, 1)),
    -- RFC 3339 UTC time of the last change.
    changed_at    TEXT NOT NULL
);
