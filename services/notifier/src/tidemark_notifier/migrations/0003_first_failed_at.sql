-- Give-up is measured from the first failed attempt, not from when the message was owed:
-- after a notifier outage or a long backlog, one temporary failure must not fail a message
-- that nobody has tried to deliver for `give_up_after_seconds`.
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS first_failed_at timestamptz;
-- Messages already being retried keep their old give-up time: their first failure is not
-- known, and when they were owed is no later than it.
UPDATE notifications SET first_failed_at = created_at
 WHERE state = 'pending' AND attempts > 0 AND first_failed_at IS NULL;
