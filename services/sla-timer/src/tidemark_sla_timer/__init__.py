"""Tidemark sla-timer service."""
