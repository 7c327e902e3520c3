-- The event store, outbox and inbox every service keeps in its own schema.

CREATE TABLE events (
    position        bigserial   PRIMARY KEY,          -- global order within this service
    stream_id       text        NOT NULL,             -- the TID (or another aggregate id)
    version         integer     NOT NULL,             -- 1, 2, ... within the stream
    event_id        uuid        NOT NULL UNIQUE,
    event_type      text        NOT NULL,
    schema_version  integer     NOT NULL,
    data            jsonb       NOT NULL,
    causation_id    uuid,
    correlation_id  uuid,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_stream_version UNIQUE (stream_id, version)
);

-- Rows to publish to the service's own topic; the relay marks them after the broker's ack.
CREATE TABLE outbox (
    id            bigserial   PRIMARY KEY,
    event_id      uuid        NOT NULL UNIQUE,
    topic         text        NOT NULL,
    record_key    bytea       NOT NULL,
    record_value  bytea       NOT NULL,
    headers       jsonb       NOT NULL,               -- [[name, base64 value], ...]
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- Consumed records already handled: one row per (consumer, event id), written in the
-- handler's transaction, so a redelivered record changes nothing twice.
CREATE TABLE inbox (
    consumer      text        NOT NULL,
    event_id      uuid        NOT NULL,
    topic         text        NOT NULL,
    kafka_partition integer   NOT NULL,
    kafka_offset  bigint      NOT NULL,
    handled_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
