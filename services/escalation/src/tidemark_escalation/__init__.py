"""Tidemark escalation service."""
