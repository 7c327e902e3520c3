"""Kafka helpers: topic set-up, the outbox relay and the idempotent consumer."""
