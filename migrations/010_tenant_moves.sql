-- A tenant being copied to its own database by `msg_server tenant-move`: move_dsn is the
-- target (sealed like dedicated_dsn); while it is set the tenant's writes are refused.
ALTER TABLE tenants
    ADD COLUMN move_dsn        TEXT NOT NULL DEFAULT '',
    ADD COLUMN move_started_at TIMESTAMPTZ;
