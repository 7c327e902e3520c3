"""Base class and registry for Tidemark's domain events.

Every event is a frozen pydantic model with a stable string type name (never an import
path) and an integer schema version. The registry maps (type, version) to the model and
holds upcasters, so records written under an old schema version stay readable.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo, WithJsonSchema
from pydantic.networks import validate_email

JsonDict = dict[str, Any]
# Validation context of data read back from the service's own stores (`decode_trusted`):
# it was validated when written, so the costly checks (e-mail syntax) are skipped.
TRUSTED = "trusted_store"
_TRUSTED_CONTEXT = {TRUSTED: True}


def _email(value: str, info: ValidationInfo) -> str:
    if info.context and info.context.get(TRUSTED):
        return value
    return checked_email(value)


@functools.lru_cache(maxsize=4096)
def checked_email(value: str) -> str:
    """pydantic's EmailStr check, remembered: one address is checked again and again (a
    request and the event made from it; every event of a ticket, in every service that
    consumes it), and the check is one of the dearest steps of a request. Invalid
    addresses raise and are not remembered."""
    return validate_email(value)[1]  # what pydantic's EmailStr keeps


# pydantic's EmailStr (same check, same JSON Schema), but for data decoded from a store.
Email = Annotated[
    str, AfterValidator(_email), WithJsonSchema({"type": "string", "format": "email"})
]


class DomainEvent(BaseModel):
    """A fact that happened. Subclasses set `event_type` and, when it changes, `schema_version`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    def stream_id(self) -> str:
        """The CloudEvents subject and Kafka key: the ticket id for ticket events."""
        tid = getattr(self, "tid", None)
        if not isinstance(tid, str):
            raise TypeError(f"{type(self).__name__} has no tid; override stream_id()")
        return tid


E = TypeVar("E", bound=type[DomainEvent])
Upcaster = Callable[[JsonDict], JsonDict]


class UnknownEventType(LookupError):
    """The record names an event type (or version) this build does not know."""


class EventRegistry:
    def __init__(self) -> None:
        self._types: dict[str, type[DomainEvent]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register(self, cls: E) -> E:
        name = cls.event_type
        if name in self._types and self._types[name] is not cls:
            raise ValueError(f"event type {name!r} registered twice")
        self._types[name] = cls
        return cls

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register a function that turns version `from_version` data into the next version."""

        def wrap(fn: Upcaster) -> Upcaster:
            self._upcasters[(event_type, from_version)] = fn
            return fn

        return wrap

    def model_for(self, event_type: str) -> type[DomainEvent]:
        try:
            return self._types[event_type]
        except KeyError:
            raise UnknownEventType(f"unknown event type {event_type!r}") from None

    def decode(self, event_type: str, version: int, data: JsonDict) -> DomainEvent:
        return self.model_for(event_type).model_validate(self._upcast(event_type, version, data))

    def _upcast(self, event_type: str, version: int, data: JsonDict) -> JsonDict:
        cls = self.model_for(event_type)
        if version > cls.schema_version:
            raise UnknownEventType(
                f"{event_type} version {version} is newer than this build "
                f"(knows up to {cls.schema_version})"
            )
        while version < cls.schema_version:
            try:
                data = self._upcasters[(event_type, version)](data)
            except KeyError:
                raise UnknownEventType(f"no upcaster for {event_type} version {version}") from None
            version += 1
        return data

    def decode_trusted(self, event_type: str, version: int, raw: str) -> DomainEvent:
        """`decode` for JSON read back from this system's own stores (event store, recorded
        consumed events): upcast as usual, but skip the checks the data passed when written
        (see TRUSTED). Several times faster for a rebuild's hundreds of thousands of rows."""
        cls = self.model_for(event_type)
        if version == cls.schema_version:
            # the model's validator itself (what model_validate_json calls, without its
            # Python wrapper: a tenth of a rebuild's decode)
            decoded: DomainEvent = cls.__pydantic_validator__.validate_json(
                raw, context=_TRUSTED_CONTEXT
            )
            return decoded
        data = self._upcast(event_type, version, json.loads(raw))
        return cls.model_validate(data, context=_TRUSTED_CONTEXT)

    def __iter__(self) -> Iterator[type[DomainEvent]]:
        return iter(sorted(self._types.values(), key=lambda c: c.event_type))

    def __contains__(self, event_type: object) -> bool:
        return event_type in self._types


registry = EventRegistry()
event = registry.register
