-- Key rotation: a key stays published after another becomes current, so
-- credentials it signed still verify, until it is marked compromised.
ALTER TABLE signing_keys ADD COLUMN activated_at TEXT;
ALTER TABLE signing_keys ADD COLUMN compromised_at TEXT;
ALTER TABLE signing_keys ADD COLUMN compromise_reason TEXT;

-- At most one current key, even when several processes rotate at once.
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (is_current) WHERE is_current = 1;

-- A re-issued credential names the credential it replaces. The replaced
-- row stays (credentials are immutable), so the one-per-member indexes
-- leave re-issued rows out.
ALTER TABLE credentials ADD COLUMN reissue_of TEXT REFERENCES credentials (id);

DROP INDEX credentials_one_per_path;
CREATE UNIQUE INDEX credentials_one_per_path
    ON credentials (member_id, achievement_id) WHERE kind = 'path' AND reissue_of IS NULL;

DROP INDEX credentials_one_per_module;
CREATE UNIQUE INDEX credentials_one_per_module
    ON credentials (member_id, achievement_id)
    WHERE kind = 'module' AND valid_until IS NULL AND reissue_of IS NULL;

-- Credentials signed by a compromised key and replaced by a re-issue.
CREATE TABLE superseded_credentials (
    credential_id TEXT PRIMARY KEY REFERENCES credentials (id),
    replaced_by   TEXT NOT NULL UNIQUE REFERENCES credentials (id),
    key_fragment  TEXT NOT NULL REFERENCES signing_keys (fragment),
    superseded_at TEXT NOT NULL
);
