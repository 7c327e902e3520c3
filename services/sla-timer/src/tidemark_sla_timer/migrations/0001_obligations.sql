-- Response obligations (clocks) per ticket, with their due instants.

CREATE TABLE obligations (
    obligation_id   text        PRIMARY KEY,           -- <tid>/<n>
    tid             text        NOT NULL,
    kind            text        NOT NULL,
    level           text        NOT NULL,
    severity        text,
    started_at      timestamptz NOT NULL,
    deadline        timestamptz,
    warning_at      timestamptz,
    paused_seconds  integer     NOT NULL DEFAULT 0,
    state           text        NOT NULL,              -- running | paused | met | breached
    policy_version  text        NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX obligations_tid ON obligations (tid);

CREATE TABLE breaches (
    seq             bigserial   PRIMARY KEY,
    obligation_id   text        NOT NULL UNIQUE,
    tid             text        NOT NULL,
    deadline        timestamptz NOT NULL,
    emitted_at      timestamptz NOT NULL
);
