"""The one retry policy (tidekit.retry): what it retries, how often, how long it waits."""

from __future__ import annotations

import asyncpg
import pytest

from tidekit.retry import COMMANDS, UNTIL_DONE, RetryPolicy, backoff
from tidekit.store.eventstore import ConcurrencyConflict


class Flaky:
    """Fails with `error` the first `failures` calls, then returns how many calls it took."""

    def __init__(self, failures: int, error: BaseException) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    async def __call__(self) -> int:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return self.calls


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def test_backoff_doubles_from_base_within_half_to_all_of_it_and_is_capped() -> None:
    for attempt in range(1, 12):
        ceiling = min(0.01 * 2 ** (attempt - 1), 0.5)
        low = backoff(attempt, base=0.01, cap=0.5, rand=lambda: 0.0)
        high = backoff(attempt, base=0.01, cap=0.5, rand=lambda: 0.999999)
        assert low == pytest.approx(ceiling / 2)
        assert ceiling / 2 <= high <= ceiling
    assert backoff(40, base=0.01, cap=0.5, rand=lambda: 1.0) == pytest.approx(0.5)
    assert backoff(0, base=0.01, cap=0.5, rand=lambda: 1.0) == pytest.approx(0.01)


@pytest.mark.parametrize(
    "error",
    [
        ConcurrencyConflict("TID-1", 3),
        asyncpg.DeadlockDetectedError(),
        OSError(),
        # What asyncpg raises when a connection the server terminated (pg_ctl stop -m fast)
        # is used for its COMMIT, ROLLBACK or the pool's reset (MagicStack/asyncpg#784).
        asyncpg.InternalClientError(
            "cannot switch to state 15; another operation (2) is in progress"
        ),
    ],
)
async def test_conflicts_and_transient_errors_are_retried_until_the_work_goes_through(
    error: BaseException,
) -> None:
    work, sleeps = Flaky(3, error), Sleeps()
    assert await COMMANDS.run(work, sleep=sleeps) == 4
    assert len(sleeps.delays) == 3
    assert all(0 < d <= COMMANDS.cap for d in sleeps.delays)


async def test_a_command_gives_up_after_its_attempts_with_the_last_error() -> None:
    policy = RetryPolicy(attempts=5, base=0.01, cap=0.5)
    work, sleeps = Flaky(100, ConcurrencyConflict("TID-1", 3)), Sleeps()
    with pytest.raises(ConcurrencyConflict):
        await policy.run(work, sleep=sleeps)
    assert work.calls == 5
    assert len(sleeps.delays) == 4  # no pause after the last attempt


async def test_other_errors_are_not_retried() -> None:
    work, sleeps = Flaky(1, ValueError("a bug, not a race")), Sleeps()
    with pytest.raises(ValueError):
        await COMMANDS.run(work, sleep=sleeps)
    assert work.calls == 1 and sleeps.delays == []


async def test_until_done_never_gives_up_and_its_pauses_stay_capped() -> None:
    work, sleeps = Flaky(60, OSError("Kafka away")), Sleeps()
    assert await UNTIL_DONE.run(work, sleep=sleeps) == 61
    assert max(sleeps.delays) <= UNTIL_DONE.cap
    assert sleeps.delays[-1] >= UNTIL_DONE.cap / 2
