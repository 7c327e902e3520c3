"""Tidemark intake service."""
