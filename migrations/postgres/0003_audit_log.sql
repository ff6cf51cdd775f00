-- Append-only record of every change to the academy's credentials, keys
-- and access tokens: who (`actor`), what (`action` on `subject`), when
-- (`at`, RFC 3339 UTC) and why (`reason`). It holds internal ids only,
-- never a member's name, e-mail address or phone number.
CREATE TABLE audit_log (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    reason  TEXT,
    -- A JSON object of further internal ids, such as the member id.
    details TEXT NOT NULL DEFAULT '{}'
);

CREATE INDEX audit_log_by_subject ON audit_log (subject);

CREATE FUNCTION reject_audit_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION reject_audit_change();
