"""The SLA timer's pure decisions, on top of the shared SLA engine (`tidekit.sla`).

The engine owns the rules (targets, calendars, obligations). This package only
- turns the upstream events a ticket has seen into the engine's inputs and replays them
  (`inputs`),
- says which sla.* events the resulting state owes and which have not been emitted yet,
  keyed once per obligation (`reconcile`),
- says which warning and breach timers must be pending, and builds the event a due timer
  fires (`timers`).
"""

from .inputs import ClockInput, TicketFacts, replay
from .reconcile import EmitKey, Pending, pending_events, target_changes
from .timers import TimerRow, fire, timers_for

__all__ = [
    "ClockInput",
    "EmitKey",
    "Pending",
    "TicketFacts",
    "TimerRow",
    "fire",
    "pending_events",
    "replay",
    "target_changes",
    "timers_for",
]
