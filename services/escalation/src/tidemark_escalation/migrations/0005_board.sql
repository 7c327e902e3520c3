-- The board (/board): what a supervisor's page shows besides the queue rows, its change
-- feed and its sign-in sessions.

-- Per ticket: the subject (from ticket.submitted) and the state of its open obligation's
-- clock as the board colours it (sla.clock_started/target_changed/paused/resumed/warning/
-- breached/met). Kept apart from ticket_deadlines, which the routing relies on.
CREATE TABLE board_tickets (
    tid            text        PRIMARY KEY,
    subject        text,
    obligation_id  text,
    kind           text,
    deadline       timestamptz,
    warning_at     timestamptz,
    paused         boolean     NOT NULL DEFAULT false,
    warned         boolean     NOT NULL DEFAULT false,
    breached       boolean     NOT NULL DEFAULT false
);

-- First replies (sla.clock_met of a first-response obligation) by queue: the serving rate
-- the at-risk forecast extrapolates from.
CREATE TABLE board_first_replies (
    tid         text        PRIMARY KEY,
    queue       text        NOT NULL,
    queued_at   timestamptz,
    replied_at  timestamptz NOT NULL
);
CREATE INDEX board_first_replies_recent ON board_first_replies (queue, replied_at);

-- The change feed every replica reads: one numbered row per change, written in the
-- transaction of the projection that made it and announced with NOTIFY at its commit.
CREATE TABLE board_changes (
    id          bigserial   PRIMARY KEY,
    kind        text        NOT NULL,
    tid         text        NOT NULL,
    queue       text,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

-- Sign-in sessions: the cookie holds a random token; only its SHA-256 is kept here.
-- expires_at is real (database) time: a session's life is not business time.
CREATE TABLE board_sessions (
    token_sha256  text        PRIMARY KEY,
    staff_name    text        NOT NULL,
    role          text        NOT NULL,
    key_id        text        NOT NULL,
    csrf_token    text        NOT NULL,
    expires_at    timestamptz NOT NULL
);
CREATE INDEX board_sessions_expiry ON board_sessions (expires_at);
