"""SLA timer settings: env prefix TIDEMARK_SLA_TIMER_."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tidekit.settings import PolicyFile, ServiceSettings


class SlaTimerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TIDEMARK_SLA_TIMER_", extra="ignore")
    service_name: ClassVar[str] = "sla-timer"

    policy_file: PolicyFile = None
    consumer_group: str = Field(
        default="main",
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Suffix of the consumer group tidemark.sla-timer.<suffix>; replicas share it",
    )
    claim_batch: int = Field(default=500, ge=1, le=10_000, description="Timers per claim")
    claim_pause_seconds: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="Real seconds the scheduler waits after a claim that fired timers, so "
        "timers due close together are claimed together (bounds the extra lateness)",
    )
    index_size: int = Field(
        default=1000, ge=1, description="Due instants the scheduler keeps in memory"
    )
    refill_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Real seconds after which the scheduler looks for other replicas' timers",
    )
    catch_up_timeout_seconds: float = Field(
        default=120.0,
        ge=0,
        description="At start, how long due timers wait for the upstream backlog (0: not at all)",
    )
    fault_kill_before_commit: Path | None = Field(
        default=None,
        description="TESTING ONLY: when this file does not exist, create it and SIGKILL the "
        "process after a claim's events are appended and before its commit",
    )
