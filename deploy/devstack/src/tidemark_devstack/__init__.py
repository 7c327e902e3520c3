"""Local real dependencies for Tidemark: Kafka (KRaft), PostgreSQL, SMTP sink."""
