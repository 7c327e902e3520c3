-- The retention worker (tidekit.store.retention) finds expired rows by these times.
CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;
CREATE INDEX inbox_handled_at ON inbox (handled_at);
