-- Every inbound e-mail (SMTP or POST /v1/inbound/email) and what became of it.
-- Accepted mail is in the event store; refused mail is kept here (with an excerpt of its
-- bytes) so operators can see what was turned away and why.

CREATE TABLE inbound_mail (
    id            bigserial   PRIMARY KEY,
    received_at   timestamptz NOT NULL DEFAULT now(),
    via           text        NOT NULL,           -- 'smtp' | 'http'
    envelope_from text,                            -- SMTP MAIL FROM, when there was one
    sender        text,                            -- the From address, when it could be read
    message_id    text,
    subject       text,
    size          integer     NOT NULL,
    outcome       text        NOT NULL,           -- created | appended | duplicate | refused
    reason        text,                            -- loop, malformed, attachment, limit: why
    tid           text,
    dedupe_key    text,                            -- sender + Message-ID (or the bytes' hash)
    raw_excerpt   bytea                            -- refused mail only, first 64 KiB
);
-- The same mail delivered twice makes one ticket or message: one accepted row per key.
CREATE UNIQUE INDEX inbound_mail_accepted_once ON inbound_mail (dedupe_key)
    WHERE outcome IN ('created', 'appended');
CREATE INDEX inbound_mail_received ON inbound_mail (received_at);

-- Threading and loop checks look these up for every mail.
CREATE INDEX tickets_known_senders ON tickets (lower(requester_email), license_key)
    WHERE entitlement IN ('active', 'expired');
CREATE INDEX foreign_events_sent_message_id ON foreign_events ((data->>'message_id'))
    WHERE event_type = 'notification.sent';
