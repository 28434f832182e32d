-- Broker consumers apply each event once (issue 16): a consumer group records the envelope ids
-- it applied, in the same transaction as its work, and skips a redelivered one. Rows older
-- than the consumers' retention are pruned by processed_at.
CREATE TABLE processed_events (
    consumer     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX processed_events_age ON processed_events (processed_at);
