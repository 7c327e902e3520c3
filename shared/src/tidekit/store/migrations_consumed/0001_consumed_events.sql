-- Every foreign event this service's consumers handled, as it arrived (ConsumerSpec
-- record_consumed): with the service's own events, what `tidemark-ops rebuild` folds its
-- read models from. Written in the handler's transaction next to the inbox row; never
-- pruned (the inbox is, after 30 days): it grows by one row per handled event.

CREATE TABLE consumed_events (
    consumer        text        NOT NULL,
    event_id        uuid        NOT NULL,
    event_type      text        NOT NULL,
    schema_version  integer     NOT NULL,
    source          text        NOT NULL,
    subject         text        NOT NULL,            -- the TID
    data            jsonb       NOT NULL,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    n               bigserial,                       -- arrival order within equal recorded_at
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX consumed_events_recorded ON consumed_events (recorded_at, n);

-- Whether the record is complete: a service that handled events before this table existed
-- (its inbox was not empty) cannot rebuild from it, and the rebuild says so.
CREATE TABLE consumed_events_history (
    began_at  timestamptz NOT NULL DEFAULT now(),
    complete  boolean     NOT NULL
);
INSERT INTO consumed_events_history (complete) SELECT NOT EXISTS (SELECT 1 FROM inbox);
