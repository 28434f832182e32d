-- Revocation (issue 12): a user's tokens carry the token_version they were signed with; a
-- bump (logout everywhere, password reset, role change, deactivation) refuses every older
-- token at once. Deactivated users cannot log in and their tokens and sockets stop working.
ALTER TABLE users
    ADD COLUMN token_version BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN is_active     BOOLEAN NOT NULL DEFAULT true;

-- A device session belongs to the token version it was opened under: a revocation (password
-- reset, role change, deactivation, logout everywhere) ends it too.
ALTER TABLE device_sessions ADD COLUMN token_version BIGINT NOT NULL DEFAULT 0;

-- Objects named by a registered file (its thumbnail too) or by a sent note are immutable: the
-- upload presigner looks them up by key (issue 12).
CREATE INDEX files_thumbnail_key ON files (tenant_id, thumbnail_key) WHERE thumbnail_key <> '';
CREATE INDEX note_files_object_key ON note_files (tenant_id, object_key);
