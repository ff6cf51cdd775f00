-- The compact signed form (a JWS, see docs/compact-form.md) of a credential,
-- made by the issuer in the transaction that stores the credential. QR
-- codes place it in the fragment of the verification link so that a phone
-- without a connection can check the certificate. A credential issued
-- before this table existed, or one that cannot be summarised, has no row
-- and its QR code carries the link alone.
CREATE TABLE credential_compact_forms (
    credential_id TEXT PRIMARY KEY REFERENCES credentials (id),
    compact       TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
