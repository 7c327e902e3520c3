-- One row per response obligation, for the SLA reports (docs/sla.md, "SLA attainment"),
-- folded from the sla-timer's events in the consumer's transaction
-- (tidemark_escalation.reports.domain.obligations.evolve).
-- queue: the ticket's queue when the obligation was decided (its breach or its reply), as
-- escalation knew it; null when escalation had not queued the ticket yet.
-- deadline: the last one the events stated; null while paused (or met while paused).
-- breached_at: the breach instant (the deadline sla.breached names).
-- paused_seconds: real seconds on hold so far; paused_since: the open pause's start.

CREATE TABLE report_obligations (
    obligation_id   text             PRIMARY KEY,
    tid             text             NOT NULL,
    kind            text             NOT NULL,
    level           text             NOT NULL,
    severity        text,
    queue           text,
    started_at      timestamptz      NOT NULL,
    deadline        timestamptz,
    met_at          timestamptz,
    breached_at     timestamptz,
    paused_seconds  double precision NOT NULL DEFAULT 0,
    paused_since    timestamptz
);
CREATE INDEX report_obligations_deadline ON report_obligations (deadline) WHERE deadline IS NOT NULL;
