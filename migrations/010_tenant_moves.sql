-- A tenant being copied to its own database by `msg_server tenant-move`: move_dsn is the
-- target (sealed like dedicated_dsn); while it is set the tenant's writes are refused.
ALTER TABLE tenants
    ADD COLUMN move_dsn        TEXT NOT NULL DEFAULT '',
    ADD COLUMN move_started_at TIMESTAMPTZ;

-- Which database this is, whatever name or address reaches it: tenant-move refuses a target
-- that is the source itself (it would purge the only copy).
CREATE TABLE database_identity (
    singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    id        UUID NOT NULL DEFAULT gen_random_uuid()
);
INSERT INTO database_identity DEFAULT VALUES;
