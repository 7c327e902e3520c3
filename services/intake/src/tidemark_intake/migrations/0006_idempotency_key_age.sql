-- The retention worker prunes Idempotency-Key claims by age (idempotency_key_retention).
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
