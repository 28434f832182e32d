-- Registered files (API.md "Files"): an object in the blob store that a room (or a note, or a
-- user's own folder) refers to. object_key is the stored key, tenant prefix included.
CREATE TABLE files (
    tenant_id     TEXT NOT NULL REFERENCES tenants (tenant_id) ON DELETE RESTRICT,
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id       BIGINT NOT NULL,
    uploader_id   BIGINT NOT NULL,
    object_key    TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL CHECK (size_bytes > 0),
    thumbnail_key TEXT NOT NULL DEFAULT '',
    original_name TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, object_key),
    FOREIGN KEY (tenant_id, room_id) REFERENCES chat_rooms (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, uploader_id) REFERENCES users (tenant_id, id) ON DELETE RESTRICT
);
CREATE INDEX files_room ON files (tenant_id, room_id, id DESC);
