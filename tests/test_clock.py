"""Working days on China's holiday calendar, pinned around 国庆节 and 春节."""
from datetime import date

import pytest

from govservice.clock import add_working_days, working_days_between


@pytest.mark.parametrize("start, days, deadline", [
    (date(2026, 11, 23), 3, date(2026, 11, 26)),   # an ordinary week
    (date(2026, 11, 27), 3, date(2026, 12, 2)),    # over a weekend
    (date(2026, 9, 30), 3, date(2026, 10, 10)),    # 国庆: 1-7 Oct off, Saturday 10 Oct a make-up working day
    (date(2026, 2, 13), 3, date(2026, 2, 25)),     # 春节: Saturday 14 Feb worked, 15-23 Feb off
])
def test_deadlines_count_working_days_only(start, days, deadline):
    assert add_working_days(start, days) == (deadline, False)


def test_a_deadline_in_an_unannounced_year_is_computed_and_marked_provisional():
    # 2027's arrangement is not published: weekends and 元旦 are still skipped.
    assert add_working_days(date(2026, 12, 29), 3) == (date(2027, 1, 4), True)


def test_working_days_between_counts_both_ways():
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert working_days_between(date(2026, 10, 10), date(2026, 9, 30)) == -3
    assert working_days_between(date(2026, 11, 23), date(2026, 11, 23)) == 0
