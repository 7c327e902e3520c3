-- recorded_at is the moment of the insert, not of the transaction's start: writers that
-- queued on a lock then record in the order they really wrote.
ALTER TABLE events ALTER COLUMN recorded_at SET DEFAULT clock_timestamp();
