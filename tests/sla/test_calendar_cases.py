"""Hand-computed calendar arithmetic (SPEC 1.4), each with its sums in a comment.

2026-11-27 is a Friday. DST 2026: Europe changes on Sun 29 March and Sun 25 October at
01:00 UTC; the USA on Sun 8 March and Sun 1 November at 02:00 local time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tidekit.sla import Calendar, CalendarError, add, elapsed, load_policy
from tidekit.sla.policy import CalendarModel

POLICY = load_policy()
BUSINESS = POLICY.calendars["business_days"]
TIER2 = POLICY.calendars["tier2"]
H = timedelta(hours=1)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def calendar(zone: str, hours: dict[str, Any], **holidays: Any) -> Calendar:
    return CalendarModel.model_validate(
        {"time_zone": zone, "hours": hours, "holidays": holidays}
    ).build("test")


WEEKDAYS_ALL_DAY = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
ALL_WEEK = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def test_friday_afternoon_plus_24h_business_is_monday_afternoon() -> None:
    # Fri 15:00-24:00 = 9 h; Sat, Sun closed; Mon 00:00-15:00 = 15 h; 9 + 15 = 24
    assert add(BUSINESS, utc(2026, 11, 27, 15), 24 * H) == utc(2026, 11, 30, 15)


def test_friday_midnight_plus_24h_is_the_end_of_friday_not_monday() -> None:
    # Fri 00:00-24:00 = 24 h, reached at Sat 00:00 (the earliest instant), not Mon 00:00
    assert add(BUSINESS, utc(2026, 11, 27), 24 * H) == utc(2026, 11, 28)


def test_deadline_exactly_at_the_close_of_an_open_interval() -> None:
    # tier2 Fri 06:00-16:00 = 10 h: 10 h from Fri 06:00 ends at Fri 16:00, not Mon 06:00
    assert add(TIER2, utc(2026, 11, 27, 6), 10 * H) == utc(2026, 11, 27, 16)
    # 24 h from Fri 15:00: Fri 1 h + Mon 10 h + Tue 10 h = 21, Wed 06:00 + 3 h = 09:00
    assert add(TIER2, utc(2026, 11, 27, 15), 24 * H) == utc(2026, 12, 2, 9)


def test_start_inside_a_weekend() -> None:
    # Sat 10:00 is closed; the clock starts Mon 00:00; + 24 h = Tue 00:00
    assert add(BUSINESS, utc(2026, 11, 28, 10), 24 * H) == utc(2026, 12, 1)
    # tier2 from Sun 20:00: Mon 06:00 + 10 h = Mon 16:00 (the close)
    assert add(TIER2, utc(2026, 11, 29, 20), 10 * H) == utc(2026, 11, 30, 16)


def test_us_holiday_is_skipped() -> None:
    cal = calendar("UTC", WEEKDAYS_ALL_DAY, country="US")
    # Wed 25 Nov 15:00-24:00 = 9 h; Thu 26 Nov is Thanksgiving (closed);
    # Fri 27 Nov 00:00 + 15 h = Fri 15:00
    assert add(cal, utc(2026, 11, 25, 15), 24 * H) == utc(2026, 11, 27, 15)
    # without the holiday calendar it would be Thu 15:00
    assert add(BUSINESS, utc(2026, 11, 25, 15), 24 * H) == utc(2026, 11, 26, 15)


def test_start_inside_a_holiday_in_berlin() -> None:
    cal = calendar("Europe/Berlin", WEEKDAYS_ALL_DAY, country="DE")
    # Fri 25 Dec 10:00 CET is Christmas (closed), Sat 26 / Sun 27 closed;
    # Mon 28 Dec 00:00 CET (= Sun 27 Dec 23:00 UTC) + 24 h = Tue 29 Dec 00:00 CET = 23:00 UTC
    assert add(cal, utc(2026, 12, 25, 9), 24 * H) == utc(2026, 12, 28, 23)


def test_extra_closures() -> None:
    cal = calendar("UTC", WEEKDAYS_ALL_DAY, extra=["2026-12-31"])
    # Wed 30 Dec 12:00-24:00 = 12 h; Thu 31 Dec closed (extra); Fri 1 Jan 00:00 + 12 h
    assert add(cal, utc(2026, 12, 30, 12), 24 * H) == utc(2027, 1, 1, 12)


def test_year_end_holiday_cluster_with_subdivision() -> None:
    cal = calendar("Europe/Berlin", WEEKDAYS_ALL_DAY, country="DE", subdivision="BY")
    # Bavaria: Thu 24 Dec open (not a public holiday), Fri 25 closed, Mon 28 - Wed 30 open,
    # Thu 31 open, Fri 1 Jan closed, Mon 4 Jan open, Tue 5 open, Wed 6 Jan (Epiphany) closed.
    # From Thu 24 Dec 00:00 CET: 24 + 24*3 (28-30) + 24 (31) = 120 h by Fri 1 Jan 00:00 CET;
    # 144 h: Mon 4 Jan 00:00 + 24 h = Tue 5 Jan 00:00 CET = Mon 4 Jan 23:00 UTC
    assert add(cal, utc(2026, 12, 23, 23), 144 * H) == utc(2027, 1, 4, 23)
    assert elapsed(cal, utc(2026, 12, 23, 23), utc(2027, 1, 4, 23)) == 144 * H


# --- DST: a day of 23 or 25 hours counts as it really is ----------------------------
def test_spring_forward_in_europe() -> None:
    berlin_24x7 = calendar("Europe/Berlin", ALL_WEEK)
    # Sat 28 Mar 12:00 CET (11:00 UTC) + 24 real hours = Sun 29 Mar 11:00 UTC (13:00 CEST)
    assert add(berlin_24x7, utc(2026, 3, 28, 11), 24 * H) == utc(2026, 3, 29, 11)
    sundays = calendar("Europe/Berlin", {"sun": [["00:00", "24:00"]]})
    # Sun 29 Mar 00:00 CET (Sat 23:00 UTC) to 24:00 CEST (Sun 22:00 UTC): a 23 h day
    assert elapsed(sundays, utc(2026, 3, 28, 23), utc(2026, 3, 29, 22)) == 23 * H
    # 24 h from its start: 23 h that Sunday, 1 h the next (Sun 5 Apr 01:00 CEST = 23:00 UTC Sat)
    assert add(sundays, utc(2026, 3, 28, 23), 24 * H) == utc(2026, 4, 4, 23)
    early = calendar("Europe/Berlin", {"sun": [["00:00", "06:00"]]})
    # 00:00-06:00 wall time on 29 Mar skips 02:00-03:00: 5 real hours (23:00-04:00 UTC)
    assert elapsed(early, utc(2026, 3, 28, 23), utc(2026, 3, 29, 4)) == 5 * H


def test_fall_back_in_europe() -> None:
    sundays = calendar("Europe/Berlin", {"sun": [["00:00", "24:00"]]})
    # Sun 25 Oct 00:00 CEST (Sat 22:00 UTC) to 24:00 CET (Sun 23:00 UTC): a 25 h day
    assert elapsed(sundays, utc(2026, 10, 24, 22), utc(2026, 10, 25, 23)) == 25 * H
    # so 25 h from the start of that Sunday ends at its end, Sun 23:00 UTC
    assert add(sundays, utc(2026, 10, 24, 22), 25 * H) == utc(2026, 10, 25, 23)
    early = calendar("Europe/Berlin", {"sun": [["00:00", "02:30"]]})
    # wall 00:00-02:30 happens once (22:00-00:30 UTC), then 02:00-02:30 again after the
    # clocks go back (01:00-01:30 UTC): 2.5 h + 0.5 h = 3 h; the 3rd hour ends 01:30 UTC
    assert elapsed(early, utc(2026, 10, 24, 22), utc(2026, 10, 25, 2)) == 3 * H
    assert add(early, utc(2026, 10, 24, 22), 3 * H) == utc(2026, 10, 25, 1, 30)


def test_spring_forward_in_new_york() -> None:
    ny_24x7 = calendar("America/New_York", ALL_WEEK)
    # Sat 7 Mar 12:00 EST (17:00 UTC) + 24 real hours = Sun 8 Mar 17:00 UTC (13:00 EDT)
    assert add(ny_24x7, utc(2026, 3, 7, 17), 24 * H) == utc(2026, 3, 8, 17)
    nights = calendar("America/New_York", {"sun": [["01:00", "04:00"]]})
    # 01:00 EST (06:00 UTC) to 04:00 EDT (08:00 UTC): 02:00-03:00 does not exist: 2 h
    assert elapsed(nights, utc(2026, 3, 8), utc(2026, 3, 9)) == 2 * H
    ny_business = calendar("America/New_York", WEEKDAYS_ALL_DAY)
    # Fri 6 Mar 15:00 EST (20:00 UTC): Fri 9 h; Mon 9 Mar 00:00 EDT + 15 h = 15:00 EDT
    # = 19:00 UTC (the UTC time of day moved by the hour the clocks moved)
    assert add(ny_business, utc(2026, 3, 6, 20), 24 * H) == utc(2026, 3, 9, 19)


def test_fall_back_in_new_york() -> None:
    nights = calendar("America/New_York", {"sun": [["01:00", "04:00"]]})
    # Sun 1 Nov: 01:00 EDT (05:00 UTC) to 04:00 EST (09:00 UTC), 01:00-02:00 twice: 4 h
    assert elapsed(nights, utc(2026, 11, 1), utc(2026, 11, 2)) == 4 * H
    # 3 h from 01:00 EDT = 08:00 UTC (03:00 EST)
    assert add(nights, utc(2026, 11, 1, 5), 3 * H) == utc(2026, 11, 1, 8)


def test_several_intervals_per_day_and_24_00() -> None:
    split = calendar("UTC", {"mon": [["08:00", "12:00"], ["13:00", "17:00"], ["22:00", "24:00"]]})
    # Mon 30 Nov 11:00: 1 h to 12:00, 4 h 13-17 (5 h), then 22:00 + 1 h = 23:00
    assert add(split, utc(2026, 11, 30, 11), 6 * H) == utc(2026, 11, 30, 23)
    # 10 h: 1 + 4 + 2 = 7 h on that Monday (to 24:00), next Mon 08:00 + 3 h = 11:00
    assert add(split, utc(2026, 11, 30, 11), 10 * H) == utc(2026, 12, 7, 11)
    assert elapsed(split, utc(2026, 11, 30, 11), utc(2026, 12, 7, 11)) == 10 * H


def test_exact_to_the_second_and_zero_duration() -> None:
    start = utc(2026, 11, 27, 15, 0, 1)
    assert add(TIER2, start, timedelta(seconds=3599)) == utc(2026, 11, 27, 16)
    assert add(TIER2, start, timedelta(0)) == start
    assert elapsed(TIER2, utc(2026, 11, 28), utc(2026, 11, 27)) == timedelta(0)


def test_deadline_across_years_on_24x7() -> None:
    c24 = POLICY.calendars["24x7"]
    # 14 days from Fri 25 Dec 2026 12:00 = Fri 8 Jan 2027 12:00
    assert add(c24, utc(2026, 12, 25, 12), timedelta(days=14)) == utc(2027, 1, 8, 12)
    # three years of business days: 2027-2029 have 261 + 260 + 261 weekdays
    assert elapsed(BUSINESS, utc(2027, 1, 1), utc(2030, 1, 1)) == (261 + 260 + 261) * 24 * H


def test_bad_calendars_are_refused() -> None:
    with pytest.raises(CalendarError):
        Calendar("never", "UTC", ((),) * 7)
    with pytest.raises(CalendarError):
        Calendar("zone", "Mars/Olympus", (((0, 3600),),) * 7)
    with pytest.raises(ValueError, match="25:00"):
        calendar("UTC", {"mon": [["08:00", "25:00"]]})
    with pytest.raises(ValueError, match="XX"):
        calendar("UTC", WEEKDAYS_ALL_DAY, country="XX")
    with pytest.raises(CalendarError, match="timezone-aware"):
        add(BUSINESS, datetime(2026, 1, 1), H)
