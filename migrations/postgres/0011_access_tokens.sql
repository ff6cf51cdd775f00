-- API access tokens. Only the SHA-256 of a token is stored: the token is
-- shown once, when it is created.
CREATE TABLE access_tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    -- Space-separated scopes, such as `completions:write`.
    scopes     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
);
