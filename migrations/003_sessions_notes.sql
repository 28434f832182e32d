-- Device sessions, presence, notes and chat notifications (the session role).

-- Presence lives on the users row (one store for PATCH /users/:id/status and
-- PATCH /session/status). status_manual: the user chose a status other than `online`, so
-- automatic presence (first socket → online, last socket → offline) leaves it alone.
ALTER TABLE users
    ADD COLUMN status_manual     BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN status_updated_at TIMESTAMPTZ NOT NULL DEFAULT now();

-- One row per (tenant, user, device). session_id is stable per device; the token is never
-- stored, only its SHA-256 (it is 32 random bytes, so a fast hash is enough). generation is
-- bumped by every login and logout: a socket opened with an older generation is closed.
CREATE TABLE device_sessions (
    session_id      UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       TEXT NOT NULL,
    user_id         BIGINT NOT NULL,
    device_id       TEXT NOT NULL,
    device_name     TEXT NOT NULL DEFAULT '',
    token_hash      BYTEA NOT NULL,
    generation      BIGINT NOT NULL DEFAULT 1,
    allowed_tenants TEXT[] NOT NULL DEFAULT '{}',
    is_active       BOOLEAN NOT NULL DEFAULT true,
    last_seen_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, user_id, device_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE notes (
    tenant_id  TEXT NOT NULL REFERENCES tenants (tenant_id) ON DELETE RESTRICT,
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sender_id  BIGINT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, sender_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- One row per distinct recipient; the first list a user appears in (to, cc, bcc) wins.
-- position keeps the order the sender wrote.
CREATE TABLE note_recipients (
    tenant_id      TEXT NOT NULL,
    note_id        BIGINT NOT NULL,
    user_id        BIGINT NOT NULL,
    recipient_type TEXT NOT NULL CHECK (recipient_type IN ('to', 'cc', 'bcc')),
    position       INTEGER NOT NULL,
    is_read        BOOLEAN NOT NULL DEFAULT false,
    read_at        TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, note_id, user_id),
    FOREIGN KEY (tenant_id, note_id) REFERENCES notes (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
-- The inbox: a user's notes, newest first.
CREATE INDEX note_recipients_inbox ON note_recipients (tenant_id, user_id, note_id DESC);

CREATE TABLE note_files (
    tenant_id    TEXT NOT NULL,
    note_id      BIGINT NOT NULL,
    position     INTEGER NOT NULL,
    file_name    TEXT NOT NULL,
    object_key   TEXT NOT NULL,
    content_type TEXT NOT NULL DEFAULT '',
    size_bytes   BIGINT NOT NULL DEFAULT 0 CHECK (size_bytes >= 0),
    PRIMARY KEY (tenant_id, note_id, position),
    FOREIGN KEY (tenant_id, note_id) REFERENCES notes (tenant_id, id) ON DELETE CASCADE
);

-- One row per distinct recipient of a POST /chat/notify.
CREATE TABLE chat_notifications (
    tenant_id         TEXT NOT NULL,
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id           BIGINT NOT NULL,
    message_id        BIGINT,
    sender_user_id    BIGINT NOT NULL,
    recipient_user_id BIGINT NOT NULL,
    title             TEXT NOT NULL DEFAULT '',
    body              TEXT NOT NULL DEFAULT '',
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, room_id) REFERENCES chat_rooms (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, sender_user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, recipient_user_id) REFERENCES users (tenant_id, id)
        ON DELETE CASCADE
);
CREATE INDEX chat_notifications_recipient
    ON chat_notifications (tenant_id, recipient_user_id, id DESC);
