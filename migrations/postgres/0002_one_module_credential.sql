-- A module without a validity period is earned once: at most one module
-- credential without `valid_until` per member and module, even when several
-- issuer processes share the database.
CREATE UNIQUE INDEX credentials_one_per_module
    ON credentials (member_id, achievement_id)
    WHERE kind = 'module' AND valid_until IS NULL;
