-- The queue row carries its ticket's deadline too (ticket_deadlines stays the source for
-- deadlines learnt before the ticket is queued), so that the summary of GET /v1/queues is
-- three index look-ups per queue instead of a scan and a join.

ALTER TABLE queue_entries ADD COLUMN deadline timestamptz;
UPDATE queue_entries q SET deadline = d.deadline FROM ticket_deadlines d WHERE d.tid = q.tid;
CREATE INDEX queue_entries_oldest ON queue_entries (queue, submitted_at, tid_key) WHERE waiting;
CREATE INDEX queue_entries_next_deadline ON queue_entries (queue, deadline, tid_key)
    WHERE waiting AND deadline IS NOT NULL;
