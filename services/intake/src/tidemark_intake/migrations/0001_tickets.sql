-- Intake's own tables: TIDs, idempotency keys, and the ticket read model.

CREATE SEQUENCE tid_seq START WITH 1000;

CREATE TABLE idempotency_keys (
    key           text        PRIMARY KEY,
    request_hash  text        NOT NULL,
    tid           text,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- The ticket as it stands, projected from intake's own events and the other services'.
CREATE TABLE tickets (
    tid                text        PRIMARY KEY,
    status             text        NOT NULL,
    channel            text        NOT NULL,
    requester_email    text        NOT NULL,
    requester_name     text        NOT NULL,
    license_key        text,
    subject            text        NOT NULL,
    product            jsonb       NOT NULL,
    site_url           text,
    level              text,
    severity           text,
    category           text,
    in_scope           boolean,
    entitlement        text,
    queue              text,
    urgent             boolean     NOT NULL DEFAULT false,
    obligations        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    messages           jsonb       NOT NULL DEFAULT '[]'::jsonb,
    token_salt         text        NOT NULL,
    token_hash         text        NOT NULL,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- Events about a ticket that other services published, kept for GET /events.
CREATE TABLE foreign_events (
    event_id     uuid        PRIMARY KEY,
    tid          text        NOT NULL,
    event_type   text        NOT NULL,
    source       text        NOT NULL,
    data         jsonb       NOT NULL,
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX foreign_events_tid ON foreign_events (tid, recorded_at);

-- Attachment contents, stored once by content hash; events carry only the reference.
CREATE TABLE attachments (
    ref          text        PRIMARY KEY,
    media_type   text        NOT NULL,
    size         integer     NOT NULL,
    content      bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
