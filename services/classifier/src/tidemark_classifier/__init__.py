"""Tidemark classifier service."""
