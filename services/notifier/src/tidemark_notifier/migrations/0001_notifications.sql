-- What the notifier knows about tickets, and every message it owes or sent.

CREATE TABLE tickets (
    tid              text        PRIMARY KEY,
    requester_email  text,
    requester_name   text,
    channel          text,
    subject          text,
    level            text,
    entitlement      text,
    deadline         timestamptz,
    clock_event_id   uuid,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- One row per (cause, recipient): the unique key is what makes a redelivered record send
-- nothing twice. Rows are written in the consumer's transaction and sent after commit.
CREATE TABLE notifications (
    notification_id  uuid        PRIMARY KEY,
    tid              text        NOT NULL,
    kind             text        NOT NULL,
    cause_key        text        NOT NULL,
    cause_event_id   uuid        NOT NULL,
    correlation_id   uuid,
    trace            jsonb       NOT NULL DEFAULT '{}'::jsonb,  -- the cause's W3C context
    channel          text        NOT NULL,
    recipient        text        NOT NULL,
    subject          text        NOT NULL,
    body             text        NOT NULL,
    message_id       text        NOT NULL,
    state            text        NOT NULL DEFAULT 'pending',  -- pending | sent | failed
    attempts         integer     NOT NULL DEFAULT 0,
    last_error       text,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    CONSTRAINT notifications_once UNIQUE (cause_key, recipient)
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE state = 'pending';
CREATE INDEX notifications_tid ON notifications (tid, created_at);
