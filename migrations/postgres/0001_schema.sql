-- Catalogue, members and issued credentials for PostgreSQL. Keep in step
-- with migrations/sqlite: the same tables, columns and constraints.
-- Text columns holding JSON store objects keyed by language tag.

CREATE TABLE modules (
    id               TEXT PRIMARY KEY,
    hours            BIGINT NOT NULL CHECK (hours > 0),
    -- Months a certificate stays valid; NULL when it never expires.
    valid_for_months BIGINT CHECK (valid_for_months > 0),
    title            TEXT NOT NULL,
    description      TEXT NOT NULL,
    criteria         TEXT NOT NULL
);

CREATE TABLE paths (
    id          TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    description TEXT NOT NULL,
    criteria    TEXT NOT NULL
);

CREATE TABLE path_modules (
    path_id   TEXT NOT NULL REFERENCES paths (id),
    module_id TEXT NOT NULL REFERENCES modules (id),
    position  BIGINT NOT NULL,
    PRIMARY KEY (path_id, module_id)
);

CREATE TABLE cooperatives (
    id                  TEXT PRIMARY KEY,
    name_ar             TEXT NOT NULL,
    name_latin          TEXT NOT NULL,
    registration_number TEXT NOT NULL UNIQUE,
    region              TEXT NOT NULL
);

CREATE TABLE members (
    id             TEXT PRIMARY KEY,
    cooperative_id TEXT NOT NULL REFERENCES cooperatives (id),
    name_ar        TEXT NOT NULL,
    name_latin     TEXT NOT NULL,
    email          TEXT UNIQUE,
    phone          TEXT UNIQUE,
    role           TEXT NOT NULL CHECK (role IN ('member', 'manager')),
    -- Salt of the hashed identifier placed in this member's credentials.
    identity_salt  TEXT NOT NULL
);

-- Signed credentials, stored exactly as issued.
CREATE TABLE credentials (
    id             TEXT PRIMARY KEY,
    member_id      TEXT REFERENCES members (id),
    kind           TEXT NOT NULL CHECK (kind IN ('module', 'path', 'custom')),
    achievement_id TEXT,
    document       TEXT NOT NULL,
    issued_at      TEXT NOT NULL,
    valid_until    TEXT,
    -- Unguessable token of the public verification link.
    share_token    TEXT NOT NULL UNIQUE
);

-- At most one path credential per member and path, even under concurrent
-- completions.
CREATE UNIQUE INDEX credentials_one_per_path
    ON credentials (member_id, achievement_id) WHERE kind = 'path';

CREATE INDEX credentials_by_member ON credentials (member_id);

CREATE FUNCTION reject_credential_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'issued credentials are immutable';
END;
$$;

CREATE TRIGGER credentials_immutable BEFORE UPDATE OR DELETE ON credentials
    FOR EACH ROW EXECUTE FUNCTION reject_credential_change();

-- One row per completion the learning platform reported.
CREATE TABLE completions (
    member_id     TEXT NOT NULL REFERENCES members (id),
    module_id     TEXT NOT NULL REFERENCES modules (id),
    completed_on  TEXT NOT NULL,
    score         BIGINT CHECK (score BETWEEN 0 AND 100),
    evidence_url  TEXT,
    credential_id TEXT NOT NULL REFERENCES credentials (id),
    reported_at   TEXT NOT NULL,
    PRIMARY KEY (member_id, module_id, completed_on)
);

-- The academy's signing keys. The secret key is stored only as a JWE
-- encrypted under a key that lives outside the database.
CREATE TABLE signing_keys (
    fragment         TEXT PRIMARY KEY,
    public_multibase TEXT NOT NULL,
    encrypted_secret TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    is_current       BIGINT NOT NULL DEFAULT 0
);

-- Wallet sign-in: one-time codes and sessions, both stored as SHA-256.
CREATE TABLE sign_in_codes (
    -- SQLite gives every row an implicit `rowid`, which the queries use;
    -- this column is its PostgreSQL counterpart.
    rowid      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id  TEXT NOT NULL REFERENCES members (id),
    code_hash  TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    attempts   BIGINT NOT NULL DEFAULT 0,
    used       BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    member_id  TEXT NOT NULL REFERENCES members (id),
    expires_at TEXT NOT NULL
);
