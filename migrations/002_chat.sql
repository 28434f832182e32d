-- Rooms, members with read watermarks, messages ordered by a per-room seq, and the outbox.

CREATE TABLE chat_rooms (
    tenant_id        TEXT NOT NULL REFERENCES tenants (tenant_id) ON DELETE RESTRICT,
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             TEXT NOT NULL,
    room_type        TEXT NOT NULL DEFAULT 'group' CHECK (room_type IN ('group', 'direct')),
    created_by       BIGINT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- seq of the newest message (0: none). Bumped under the row lock in the send statement,
    -- which makes seq gap-free and serialises senders per room only.
    last_seq         BIGINT NOT NULL DEFAULT 0,
    last_activity_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- "<smaller user id>:<larger user id>" for direct rooms: one direct room per pair.
    direct_key       TEXT,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES users (tenant_id, id) ON DELETE RESTRICT
);
CREATE UNIQUE INDEX chat_rooms_direct_pair ON chat_rooms (tenant_id, direct_key)
    WHERE direct_key IS NOT NULL;

CREATE TABLE room_members (
    tenant_id     TEXT NOT NULL,
    room_id       BIGINT NOT NULL,
    user_id       BIGINT NOT NULL,
    joined_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_read_seq BIGINT NOT NULL DEFAULT 0,
    last_read_at  TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, room_id, user_id),
    FOREIGN KEY (tenant_id, room_id) REFERENCES chat_rooms (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX room_members_user ON room_members (tenant_id, user_id);

CREATE TABLE messages (
    tenant_id     TEXT NOT NULL,
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id       BIGINT NOT NULL,
    seq           BIGINT NOT NULL,
    sender_id     BIGINT NOT NULL,
    body          TEXT NOT NULL,
    meta_json     JSONB NOT NULL DEFAULT '{}',
    client_msg_id TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, room_id, seq),
    FOREIGN KEY (tenant_id, room_id) REFERENCES chat_rooms (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, sender_id) REFERENCES users (tenant_id, id) ON DELETE RESTRICT
);
-- Idempotent sends: one message per (room, sender, client_msg_id).
CREATE UNIQUE INDEX messages_client_msg_id ON messages (tenant_id, room_id, sender_id, client_msg_id)
    WHERE client_msg_id IS NOT NULL;

-- Events committed with the change that emits them; the relay publishes and marks them.
CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       TEXT NOT NULL,
    topic           TEXT NOT NULL,
    payload         JSONB NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at    TIMESTAMPTZ
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at, id) WHERE published_at IS NULL;
