-- Tenants, org units, users, aliases and the alias audit trail.
-- Every tenant-scoped row carries tenant_id, and every cross-table reference includes it, so a
-- row of one tenant can never point at another tenant's row.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE tenants (
    tenant_id                  TEXT PRIMARY KEY
                               CHECK (tenant_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    name                       TEXT NOT NULL,
    deployment_mode            TEXT NOT NULL DEFAULT 'shared'
                               CHECK (deployment_mode IN ('shared', 'dedicated')),
    dedicated_dsn              TEXT NOT NULL DEFAULT '',
    dedicated_redis_addr       TEXT NOT NULL DEFAULT '',
    dedicated_lavinmq_url      TEXT NOT NULL DEFAULT '',
    dedicated_minio_endpoint   TEXT NOT NULL DEFAULT '',
    dedicated_minio_access_key TEXT NOT NULL DEFAULT '',
    dedicated_minio_secret_key TEXT NOT NULL DEFAULT '',
    dedicated_minio_bucket     TEXT NOT NULL DEFAULT '',
    dedicated_minio_use_ssl    BOOLEAN NOT NULL DEFAULT false,
    user_count_threshold       INTEGER NOT NULL DEFAULT 200 CHECK (user_count_threshold > 0),
    is_active                  BOOLEAN NOT NULL DEFAULT true,
    created_at                 TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at                 TIMESTAMPTZ NOT NULL DEFAULT now()
);

INSERT INTO tenants (tenant_id, name, deployment_mode)
VALUES ('default', 'Default Tenant', 'shared')
ON CONFLICT DO NOTHING;

CREATE TABLE org_units (
    tenant_id  TEXT NOT NULL REFERENCES tenants (tenant_id) ON DELETE RESTRICT,
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    parent_id  BIGINT,
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, parent_id) REFERENCES org_units (tenant_id, id)
        ON DELETE SET NULL (parent_id)
);

CREATE TABLE users (
    tenant_id     TEXT NOT NULL REFERENCES tenants (tenant_id) ON DELETE RESTRICT,
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        BIGINT NOT NULL,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    title         TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'manager', 'user')),
    status        TEXT NOT NULL DEFAULT 'offline'
                  CHECK (status IN ('online', 'offline', 'busy', 'away', 'meeting')),
    status_note   TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, org_id) REFERENCES org_units (tenant_id, id) ON DELETE RESTRICT
);

-- Emails are unique per tenant, case-insensitively; login matches the same way.
CREATE UNIQUE INDEX users_tenant_email_ci ON users (tenant_id, lower(email));
CREATE INDEX users_tenant_updated ON users (tenant_id, updated_at DESC, id DESC);
-- Substring search on name/email/title (Korean included) without a full scan.
CREATE INDEX users_search_trgm ON users
    USING gin ((lower(name || ' ' || email || ' ' || title)) gin_trgm_ops);

CREATE TABLE user_aliases (
    tenant_id  TEXT NOT NULL,
    user_id    BIGINT NOT NULL,
    alias      TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, alias),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_aliases_tenant_alias ON user_aliases (tenant_id, alias);

CREATE TABLE alias_audit (
    tenant_id  TEXT NOT NULL,
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT NOT NULL,
    alias      TEXT NOT NULL,
    action     TEXT NOT NULL CHECK (action IN ('add', 'delete')),
    acted_by   BIGINT NOT NULL,
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, acted_by) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX alias_audit_user_created ON alias_audit (tenant_id, user_id, created_at DESC, id DESC);
