-- Durable clocks: each ticket's clock inputs (replayed through the SLA engine), the
-- emitted-once keys, and the timers the scheduler claims.

-- One row per ticket: the lock that serialises its handlers across replicas, and what the
-- classifier said (NULL until ticket.classified arrives).
CREATE TABLE sla_tickets (
    tid            text        PRIMARY KEY,
    level          text,
    severity       text,
    entitlement    text,
    submitted_at   timestamptz,
    classified_at  timestamptz
);

-- Everything after the classification that moves a ticket's clocks, in the order it
-- happened (`at`); replayed through tidekit.sla.evolve to get the clocks' state.
CREATE TABLE clock_inputs (
    seq       bigserial   PRIMARY KEY,
    tid       text        NOT NULL,
    at        timestamptz NOT NULL,
    kind      text        NOT NULL,   -- customer_message | staff_replied | status | resolved | reopened | reclassified | escalated
    status    text,                   -- for kind = status: the new status
    level     text,                   -- reclassified / escalated
    severity  text
);
CREATE INDEX clock_inputs_tid ON clock_inputs (tid, at, seq);

-- Each sla.* event emitted once per obligation and kind (seq tells pauses, resumes and
-- target changes of one obligation apart). Written in the emitting transaction.
CREATE TABLE sla_emitted (
    obligation_id  text        NOT NULL,
    kind           text        NOT NULL,
    seq            bigint      NOT NULL DEFAULT 0,
    tid            text        NOT NULL,
    emitted_at     timestamptz NOT NULL,
    PRIMARY KEY (obligation_id, kind, seq)
);
CREATE INDEX sla_emitted_tid ON sla_emitted (tid);

-- Pending warnings and breaches: one row per obligation and kind (warning | breach) with
-- what the event needs, so the scheduler emits it without replaying the ticket.
CREATE TABLE timers (
    obligation_id   text        NOT NULL,
    kind            text        NOT NULL,
    due_at          timestamptz NOT NULL,
    tid             text        NOT NULL,
    ob_kind         text        NOT NULL,
    level           text        NOT NULL,
    severity        text,
    deadline        timestamptz NOT NULL,
    warning_at      timestamptz NOT NULL,
    policy_version  text        NOT NULL,
    PRIMARY KEY (obligation_id, kind)
);
CREATE INDEX timers_due ON timers (due_at);
CREATE INDEX timers_tid ON timers (tid);

ALTER TABLE breaches
    ADD COLUMN kind text,
    ADD COLUMN level text,
    ADD COLUMN severity text,
    ADD COLUMN policy_version text,
    ADD COLUMN lateness_seconds double precision NOT NULL DEFAULT 0;
CREATE INDEX breaches_emitted_at ON breaches (emitted_at, seq);
