-- Full routing state per ticket, serving order as stored columns, deadlines learnt apart.
-- serve_rank: 0 urgent, 1 otherwise; tid_key: TID-<20 digits> so TIDs sort by number.

ALTER TABLE queue_entries
    ADD COLUMN serve_rank smallint,
    ADD COLUMN tid_key    text,
    ADD COLUMN waiting    boolean NOT NULL DEFAULT true,
    ADD COLUMN rule       text,
    ADD COLUMN reason     text,
    ADD COLUMN note       text,
    ADD COLUMN acted_on   text[]  NOT NULL DEFAULT '{}';

UPDATE queue_entries SET
    serve_rank = CASE WHEN urgent THEN 0 ELSE 1 END,
    tid_key = CASE WHEN tid ~ '^TID-[0-9]{1,20}$'
                   THEN 'TID-' || lpad(ltrim(substr(tid, 5), '0'), 20, '0')
                   ELSE '~' || tid END;

ALTER TABLE queue_entries
    ALTER COLUMN serve_rank SET NOT NULL,
    ALTER COLUMN tid_key SET NOT NULL;

-- The running obligation's deadline of each ticket, from sla.clock_started, target_changed,
-- paused/resumed and met. Kept apart from queue_entries: the sla topic may be read before
-- the classifier topic, so a deadline can be known before the ticket is queued.
CREATE TABLE ticket_deadlines (
    tid            text        PRIMARY KEY,
    obligation_id  text        NOT NULL,
    deadline       timestamptz
);
INSERT INTO ticket_deadlines (tid, obligation_id, deadline)
SELECT tid, tid || '/1', deadline FROM queue_entries WHERE deadline IS NOT NULL;

ALTER TABLE queue_entries DROP COLUMN deadline;
DROP INDEX queue_entries_order;
CREATE INDEX queue_entries_serving ON queue_entries (queue, serve_rank, submitted_at, tid_key)
    WHERE waiting;
