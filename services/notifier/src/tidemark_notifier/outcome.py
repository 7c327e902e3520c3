"""What one delivery attempt came to: delivered, worth retrying, or never going to work."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    retry: bool
    error: str | None = None

    @classmethod
    def ok(cls) -> Outcome:
        return cls(True, False)

    @classmethod
    def temporary(cls, error: str) -> Outcome:
        return cls(False, True, error[:500])

    @classmethod
    def permanent(cls, error: str) -> Outcome:
        return cls(False, False, error[:500])
