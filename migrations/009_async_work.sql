-- Thumbnails are made off the request path (issue 16): a registration names the thumbnail's
-- key at once with status 'pending'; the thumbnail consumer sets 'ready', or 'none' (and
-- clears the key) when the object is not a usable image. Rows made before this migration had
-- their thumbnail made during the registration.
ALTER TABLE files ADD COLUMN thumbnail_status TEXT NOT NULL DEFAULT 'none'
    CHECK (thumbnail_status IN ('none', 'pending', 'ready'));
UPDATE files SET thumbnail_status = 'ready' WHERE thumbnail_key <> '';

-- Mention notifications are made by the notifications consumer (issue 16) for mentioned users
-- who are offline: one per (message, recipient), whatever the broker redelivers.
ALTER TABLE chat_notifications ADD COLUMN kind TEXT NOT NULL DEFAULT 'notify'
    CHECK (kind IN ('notify', 'mention'));
CREATE UNIQUE INDEX chat_notifications_mention
    ON chat_notifications (tenant_id, message_id, recipient_user_id) WHERE kind = 'mention';
