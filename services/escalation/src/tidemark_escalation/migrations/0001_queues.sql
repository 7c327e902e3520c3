-- Where each ticket waits. Serving order: urgent first, then submission time, then TID.

CREATE TABLE queue_entries (
    tid           text        PRIMARY KEY,
    queue         text        NOT NULL,
    urgent        boolean     NOT NULL,
    submitted_at  timestamptz NOT NULL,
    level         text        NOT NULL,
    severity      text,
    deadline      timestamptz,
    queued_at     timestamptz NOT NULL
);
CREATE INDEX queue_entries_order ON queue_entries (queue, urgent DESC, submitted_at, tid);
