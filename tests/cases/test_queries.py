"""The lists (issue 9): keyset pages that neither skip nor repeat, a constant number of SQL
statements per page however many rows it shows, and working days counted in SQL exactly as
`clock` counts them, around 国庆节 and 春节 and their make-up working days, and in a
provisional year with an administrator's holiday. Runs on SQLite and on PostgreSQL."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from govservice.calendar import services as calendar_services
from govservice.calendar import workdays, working
from govservice.cases import queries
from govservice.core.extensions import db
from govservice.core.pagination import Key, decode, encode, keyset

from ..factories import accepted_case, person, statements, submitted_case


def _at(clock, day: date):
    clock.at = datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)


def _numbers(page):
    return [row.case.number for row in page]


def _walk_inbox(officer, size):
    pages, token = [], None
    while True:
        page = queries.department_inbox(officer, token, size=size)
        pages.append(page)
        if page.next is None:
            return pages
        token = page.next


def test_inbox_pages_follow_deadline_then_case_and_go_back_the_same_way(ctx, clock):
    _at(clock, date(2026, 11, 23))
    made = [accepted_case().number for _ in range(5)]  # all due the same day: the case decides
    _at(clock, date(2026, 11, 16))
    earlier = [accepted_case().number for _ in range(2)]
    officer = person("刘洋")
    pages = _walk_inbox(officer, 3)
    assert [len(p) for p in pages] == [3, 3, 1]
    assert sum((_numbers(p) for p in pages), []) == earlier + made
    assert pages[0].prev is None and pages[-1].next is None
    back = queries.department_inbox(officer, pages[2].prev, size=3)
    assert _numbers(back) == _numbers(pages[1])
    first = queries.department_inbox(officer, back.prev, size=3)
    assert _numbers(first) == _numbers(pages[0]) and first.prev is None


def test_rows_added_between_pages_are_neither_skipped_nor_repeated(ctx, clock):
    _at(clock, date(2026, 11, 23))
    made = [accepted_case().number for _ in range(4)]
    officer = person("刘洋")
    first = queries.department_inbox(officer, size=2)
    _at(clock, date(2026, 11, 16))
    newcomer = accepted_case().number  # due earlier: belongs before page one's rows
    second = queries.department_inbox(officer, first.next, size=2)
    assert _numbers(first) + _numbers(second) == made
    assert newcomer not in _numbers(second)
    assert _numbers(queries.department_inbox(officer, size=2))[0] == newcomer


def test_a_tampered_or_foreign_token_starts_from_the_first_page(ctx, clock):
    accepted_case()
    officer = person("刘洋")
    assert decode("not-a-token", 2) is None and decode(encode("n", [1]), 2) is None
    for token in ("garbage", encode("n", ["x"]), "e30"):
        assert len(queries.department_inbox(officer, token)) == 1


def test_keys_with_nulls_and_mixed_directions_page_without_gaps(ctx):
    from sqlalchemy import select

    from govservice.identity.models import StaffAssignment

    keys = [
        Key(StaffAssignment.role),
        Key(StaffAssignment.department_id, nullable=True),
        Key(StaffAssignment.hall_id, nullable=True, descending=True),
        Key(StaffAssignment.id),
    ]
    query = select(StaffAssignment.id)
    every = [
        row.id
        for row in db.session.execute(
            query.order_by(
                StaffAssignment.role,
                StaffAssignment.department_id.asc().nulls_last(),
                StaffAssignment.hall_id.desc().nulls_last(),
                StaffAssignment.id,
            )
        )
    ]
    assert len(every) > 3
    seen, token = [], None
    while True:
        page = keyset(query, keys, token, size=2)
        seen += page.items
        if page.next is None:
            break
        token = page.next
    assert seen == every
    back = keyset(query, keys, page.prev, size=2)
    assert back.items == every[-len(page.items) - 2 : -len(page.items)]


def test_the_inbox_page_costs_the_same_statements_for_few_or_many_rows(ctx, clock):
    officer = person("刘洋")
    accepted_case()
    queries.department_inbox(officer, size=50)  # the calendar table is filled once
    officer.departments("officer")
    with statements() as few:
        page = queries.department_inbox(officer, size=50)
        [(r.case.item.name, r.step.department.name, r.case.number) for r in page]
    for _ in range(6):
        accepted_case()
    officer = person("刘洋")
    officer.departments("officer")  # the officer's own rows, not the page's
    with statements() as many:
        page = queries.department_inbox(officer, size=50)
        [(r.case.item.name, r.step.department.name, r.case.number) for r in page]
    assert len(page) == 7 and len(many) == len(few)


@pytest.mark.parametrize("path, name", [("/review/", "刘洋"), ("/window/", "赵敏"), ("/cases", "张三")])
def test_a_list_page_issues_as_many_statements_for_many_rows_as_for_one(app, client, login_as, clock, path, name):
    login_as(client, name)
    with app.app_context():
        accepted_case()
        submitted_case()
    client.get(path)

    def measured():
        with app.app_context(), statements() as seen:
            assert client.get(path).status_code == 200
        return len(seen)

    one = measured()
    with app.app_context():
        for _ in range(5):
            accepted_case()
            submitted_case()
    assert measured() == one


@pytest.fixture
def app_config():
    return {"PAGE_SIZE": 2}


def test_pages_show_next_and_previous_links_in_chinese_and_english(app, client, login_as, clock):
    with app.app_context():
        for _ in range(3):
            accepted_case()
    login_as(client, "刘洋")
    page = client.get("/review/").get_data(as_text=True)
    assert '<nav class="pager" aria-label="待审查的办件分页">' in page
    assert '<span class="disabled" aria-disabled="true">上一页</span>' in page
    following = re.search(r'<a rel="next" href="([^"]+)">下一页</a>', page).group(1).replace("&amp;", "&")
    second = client.get(following).get_data(as_text=True)
    assert len(re.findall(r'<a href="/review/cases/', second)) == 1 and '<a rel="prev"' in second
    client.post("/lang", data={"lang": "en", "next": "/"})
    english = client.get("/review/").get_data(as_text=True)
    assert ">Next page</a>" in english and ">Previous page</span>" in english


# --- Working days in SQL against the clock ---------------------------------------------------------


def _days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


@pytest.mark.parametrize(
    "first, last",
    [
        (date(2025, 9, 24), date(2025, 10, 14)),  # 国庆节 2025: 1-8 Oct off, Sun 28 Sep and Sat 11 Oct worked
        (date(2026, 2, 10), date(2026, 3, 3)),  # 春节 2026: 15-23 Feb off, Sat 14 and Sat 28 Feb worked
    ],
)
def test_sql_working_days_and_colours_equal_the_clock_around_holidays(ctx, first, last):
    calendar = working.WorkingCalendar()
    for today in _days(first, last):
        cut = workdays.cutoffs(today)
        for deadline in _days(first, last + timedelta(days=5)):
            left = calendar.working_days_between(today, deadline)
            assert workdays.ordinal(deadline) - cut.today_ordinal == left, (today, deadline)
            sql = "overdue" if deadline < cut.overdue_before else "due" if deadline < cut.soon_before else "ok"
            assert sql == queries.deadline_level(left, False), (today, deadline)


def test_a_provisional_year_counts_the_administrators_holidays_in_sql_too(ctx, clock):
    workdays.ensure()
    start, day = date(2027, 9, 28), date(2027, 10, 4)  # 2027: not yet announced
    before = workdays.ordinal(day) - workdays.ordinal(start)
    calendar_services.add_holiday(None, date(2027, 10, 4), "国庆节")
    calendar_services.add_holiday(None, date(2027, 10, 9), "国庆节调休", working=True)
    after = workdays.ordinal(day) - workdays.ordinal(start)
    assert after == before - 1 == working.working_days_between(start, day)
    assert workdays.ordinal(date(2027, 10, 9)) - workdays.ordinal(date(2027, 10, 8)) == 1
    calendar_services.remove_holiday(None, date(2027, 10, 4))
    assert workdays.ordinal(day) - workdays.ordinal(start) == before


def test_the_inbox_days_left_equal_the_clock_for_each_row(ctx, clock):
    _at(clock, date(2026, 11, 16))
    accepted_case()
    _at(clock, date(2026, 11, 19))
    accepted_case()
    _at(clock, date(2026, 11, 23))
    rows = list(queries.department_inbox(person("刘洋")))
    calendar = working.WorkingCalendar()
    assert (
        [r.days_left for r in rows]
        == [calendar.working_days_between(date(2026, 11, 23), r.case.deadline) for r in rows]
        == [-2, 1]
    )
    assert [r.level for r in rows] == ["overdue", "due"]
