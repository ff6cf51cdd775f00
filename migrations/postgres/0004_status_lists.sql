-- Bitstring Status List v1.0 lists and the current status of each
-- credential.
--
-- A list is never shrunk and an index is never given twice: `next_index`
-- only grows, is advanced inside the issuance transaction with
-- `UPDATE ... SET next_index = next_index + 1 ... RETURNING`, and the
-- primary key of `status_entries` rejects a second entry at one index.
-- `next_index` counts entries handed out; the index itself is a keyed
-- permutation of that count (see issuer/src/status.rs), so that indexes
-- do not show the order of issuance.
CREATE TABLE status_lists (
    id              TEXT PRIMARY KEY,
    purpose         TEXT NOT NULL CHECK (purpose IN ('revocation', 'suspension')),
    -- 1 for the first list of a purpose, 2 for the next one, and so on.
    sequence        BIGINT NOT NULL CHECK (sequence > 0),
    size            BIGINT NOT NULL CHECK (size > 0),
    next_index      BIGINT NOT NULL DEFAULT 0 CHECK (next_index BETWEEN 0 AND size),
    -- Hex key of the permutation from counts to indexes.
    permutation_key TEXT NOT NULL,
    -- Grows with every bit change, so a stale signed copy is detected.
    version         BIGINT NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL,
    UNIQUE (purpose, sequence)
);

CREATE TABLE status_entries (
    list_id       TEXT NOT NULL REFERENCES status_lists (id),
    status_index  BIGINT NOT NULL CHECK (status_index >= 0),
    credential_id TEXT NOT NULL REFERENCES credentials (id),
    -- 1 when the credential is revoked (or suspended, by the list's purpose).
    is_set        BIGINT NOT NULL DEFAULT 0 CHECK (is_set IN (0, 1)),
    PRIMARY KEY (list_id, status_index),
    UNIQUE (credential_id, list_id)
);

CREATE INDEX status_entries_by_credential ON status_entries (credential_id);

-- The latest signed BitstringStatusListCredential of each list.
CREATE TABLE status_list_documents (
    list_id     TEXT PRIMARY KEY REFERENCES status_lists (id),
    version     BIGINT NOT NULL,
    document    TEXT NOT NULL,
    etag        TEXT NOT NULL,
    valid_until TEXT NOT NULL
);

-- The current state of each credential; the credential rows themselves
-- never change. History is in the audit log.
CREATE TABLE credential_status (
    credential_id TEXT PRIMARY KEY REFERENCES credentials (id),
    state         TEXT NOT NULL CHECK (state IN ('active', 'suspended', 'revoked')),
    reason        TEXT,
    changed_at    TEXT NOT NULL
);

INSERT INTO credential_status (credential_id, state, reason, changed_at)
SELECT id, 'active', NULL, issued_at FROM credentials;
