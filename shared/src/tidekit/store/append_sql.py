"""The event store's statements (tidekit.store.eventstore): one append of a write's events
with their outbox rows (and the unit of work's staged table writes), and the per-stream lock
of writers that record."""

# A stream's version is `base + n`: base is the expected version for an append, or for a
# record (base NULL) the stream's last version, read in this statement's snapshot, i.e.
# after LOCK_RECORDED has made this transaction the stream's only writer. A statement
# that is its own transaction takes those locks itself ($13, `stream_locks`, before the
# first row is read); its snapshot predates the wait, so a writer that committed meanwhile
# makes a version collide, and `write` writes again in a transaction (never a pretended
# conflict; a transactional writer, locking before its snapshot, never sees one).
# Each value goes once: an event's data is its record's value (the data's JSON; jsonb
# keeps its own form), a record's key its stream id, and a write's events share one time.
# Arrays go in as `(SELECT $n::type[])`, opaque to the planner: a custom plan of a bare `$n`
# knew its length (one event, mostly; the generic plan assumes ten), looked cheaper, and the
# statement was planned afresh at every execution (0.2-0.3 ms each). Now PostgreSQL keeps
# the generic plan after its first five custom ones (tested).
APPEND_MANY = """
WITH {table_writes}stream_locks AS (
    SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '/' || s, 0))
    FROM (SELECT DISTINCT unnest((SELECT $13::text[])) AS s ORDER BY 1) AS streams
), appended AS (
    INSERT INTO events (stream_id, version, event_id, event_type, schema_version, data,
                        causation_id, correlation_id, occurred_at)
    SELECT s, coalesce(b, (SELECT coalesce(max(x.version), 0) FROM events x
                           WHERE x.stream_id = e.s)) + n,
           id, t, sv, convert_from(v, 'UTF8')::jsonb, c, r, $8::timestamptz
    FROM unnest((SELECT $1::text[]), (SELECT $2::int[]), (SELECT $12::int[]),
                (SELECT $3::uuid[]), (SELECT $4::text[]), (SELECT $5::int[]),
                (SELECT $10::bytea[]), (SELECT $6::uuid[]), (SELECT $7::uuid[]))
         AS e(s, b, n, id, t, sv, v, c, r)
    WHERE {after_table_writes} AND (SELECT count(*) FROM stream_locks) >= 0
    RETURNING event_id
)
INSERT INTO outbox (event_id, topic, record_key, record_value, headers)
SELECT id, $9, convert_to(s, 'UTF8'), v, h::jsonb
FROM unnest((SELECT $3::uuid[]), (SELECT $1::text[]), (SELECT $10::bytea[]),
            (SELECT $11::text[])) AS o(id, s, v, h)
WHERE (SELECT count(*) FROM appended) > 0
"""
# Writers that record (no expected version) to one stream queue here, in a fixed order
# (no deadlock between two of them); the key is per schema, so services sharing a
# database do not wait on each other. Held to the end of the transaction.
LOCK_RECORDED = """
SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '/' || s, 0))
FROM (SELECT DISTINCT unnest($1::text[]) AS s ORDER BY 1) AS streams
"""
