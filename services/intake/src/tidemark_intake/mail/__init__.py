"""Inbound e-mail: parsing and rules (pure), the shell that records a message, and the two
doors it comes in by (the SMTP listener, POST /v1/inbound/email)."""
