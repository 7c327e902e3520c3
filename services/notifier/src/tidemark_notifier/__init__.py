"""Tidemark notifier service."""
