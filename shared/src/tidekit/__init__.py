"""Tidemark shared library (import name: tidekit)."""
