-- Issue 8: the full notifier. The ticket projection learns queue, severity, coupon refusal
-- and the mail thread; notifications get an HTML part, threading headers, a webhook payload
-- and a bounced state.

ALTER TABLE tickets
    ADD COLUMN license_key     text,
    ADD COLUMN severity        text,
    ADD COLUMN queue           text,
    ADD COLUMN coupon_reason   text,
    ADD COLUMN coupon_explanation text,
    ADD COLUMN acknowledged    boolean NOT NULL DEFAULT false,
    ADD COLUMN coupon_told     boolean NOT NULL DEFAULT false,
    ADD COLUMN thread          text[]  NOT NULL DEFAULT '{}';

-- Rows owed before this migration were acknowledgements: the ticket is acknowledged.
UPDATE tickets t SET acknowledged = true
WHERE EXISTS (SELECT 1 FROM notifications n WHERE n.cause_key = 'acknowledgement:' || t.tid);

ALTER TABLE notifications
    ADD COLUMN audience     text  NOT NULL DEFAULT 'customer',   -- customer | staff
    ADD COLUMN html         text,
    ADD COLUMN headers      jsonb NOT NULL DEFAULT '{}'::jsonb,  -- In-Reply-To, References
    ADD COLUMN payload      jsonb,                               -- webhook body
    ADD COLUMN bounced_at   timestamptz,
    ADD COLUMN bounce_reason text;
-- state: pending | sent | failed | bounced

CREATE UNIQUE INDEX notifications_message_id ON notifications (message_id);
