"""Working days on China's holiday calendar, pinned around 国庆节 and 春节."""

from datetime import date

import pytest

from govservice.calendar.working import add_working_days, working_days_between


@pytest.mark.parametrize(
    "start, days, deadline",
    [
        (date(2026, 11, 23), 3, date(2026, 11, 26)),  # an ordinary week
        (date(2026, 11, 27), 3, date(2026, 12, 2)),  # over a weekend
        (date(2026, 9, 30), 3, date(2026, 10, 10)),  # 国庆: 1-7 Oct off, Saturday 10 Oct a make-up working day
        (date(2026, 2, 13), 3, date(2026, 2, 25)),  # 春节: Saturday 14 Feb worked, 15-23 Feb off
    ],
)
def test_deadlines_count_working_days_only(start, days, deadline):
    assert add_working_days(start, days) == (deadline, False)


def test_a_deadline_in_an_unannounced_year_is_computed_and_marked_provisional():
    # 2027's arrangement is not published: weekends and 元旦 are still skipped.
    assert add_working_days(date(2026, 12, 29), 3) == (date(2027, 1, 4), True)


def test_working_days_between_counts_both_ways():
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert working_days_between(date(2026, 10, 10), date(2026, 9, 30)) == -3
    assert working_days_between(date(2026, 11, 23), date(2026, 11, 23)) == 0


# --- issue 5: the library's years, and the days an administrator enters beyond them ----------------

from govservice.calendar.working import WorkingCalendar  # noqa: E402


@pytest.mark.parametrize(
    "start, days, deadline",
    [
        (date(2026, 9, 25), 5, date(2026, 10, 9)),  # 国庆 from the Friday before: 28, 29, 30 Sep, 8, 9 Oct
        (date(2026, 10, 1), 1, date(2026, 10, 8)),  # accepted on the holiday itself
        (date(2026, 10, 9), 1, date(2026, 10, 10)),  # the make-up Saturday counts
        (date(2026, 2, 11), 5, date(2026, 2, 25)),  # 春节: 12, 13, 14 (Sat, worked), then 15-23 off: 24, 25 Feb
        (date(2026, 2, 27), 1, date(2026, 2, 28)),  # Saturday 28 Feb is a make-up working day
    ],
)
def test_deadlines_around_the_national_day_and_the_spring_festival(start, days, deadline):
    assert add_working_days(start, days) == (deadline, False)


def test_working_days_between_skip_the_spring_festival():
    assert working_days_between(date(2026, 2, 13), date(2026, 2, 25)) == 3  # 14 Feb (Sat, worked), 24, 25


def test_beyond_the_library_weekends_and_fixed_holidays_count_and_the_result_is_provisional():
    calendar = WorkingCalendar({})
    assert calendar.add_working_days(date(2027, 9, 29), 3) == (date(2027, 10, 5), True)  # 30 Sep; 1-3 Oct off; 4, 5
    assert calendar.add_working_days(date(2027, 2, 5), 3) == (date(2027, 2, 10), True)  # 春节 unknown without entries
    assert calendar.is_working_day(date(2027, 2, 8)) == (True, False)


def test_holidays_an_administrator_entered_move_a_provisional_deadline():
    entered = {date(2027, 2, d): False for d in (8, 9, 10, 11, 12)}  # 春节 2027 as an administrator would enter it
    entered[date(2027, 2, 20)] = True  # and a make-up Saturday
    calendar = WorkingCalendar(entered)
    assert calendar.add_working_days(date(2027, 2, 5), 3) == (date(2027, 2, 17), True)
    assert calendar.add_working_days(date(2027, 2, 18), 2) == (date(2027, 2, 20), True)
    assert calendar.working_days_between(date(2027, 2, 5), date(2027, 2, 19)) == 5


def test_a_deadline_running_from_an_announced_year_into_the_next_is_provisional():
    entered = {date(2027, 1, 4): False}
    assert WorkingCalendar(entered).add_working_days(date(2026, 12, 30), 3) == (date(2027, 1, 6), True)
    assert WorkingCalendar({}).add_working_days(date(2026, 12, 21), 3) == (date(2026, 12, 24), False)
