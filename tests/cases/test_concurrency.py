"""Concurrency on PostgreSQL: twenty threads acting on one case at once leave exactly one
transition and no error page; case numbers and queue numbers stay unique under concurrent intake.

Each thread has its own app context, hence its own session and connection, and they start
together at a barrier. SQLite serialises every writer on the whole database file, so the race
these tests are about cannot happen there; they are skipped on SQLite.
"""

from __future__ import annotations

import os
import threading
import uuid

import pytest
from sqlalchemy import text

from govservice.cases import services as cases
from govservice.cases.models import Case, CaseEvent, CaseStep
from govservice.catalog import services as catalog
from govservice.core.extensions import db
from govservice.review import services as review
from govservice.window import services as window
from govservice.window.models import QueueTicket

from ..factories import (
    ANSWERS,
    ITEM,
    JOINT,
    accepted_case,
    accepted_case_of,
    pdf_file,
    person,
    submitted_case,
    workflow_item,
)

THREADS = 20


@pytest.fixture
def app_config():
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 5, "max_overflow": THREADS + 5}}  # a connection each


pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
        reason="SQLite serialises all writers on the database file, so the race needs PostgreSQL "
        "(run with DATABASE_URL=postgresql+psycopg://...)",
    ),
    # The race is between connections of their own, each committing: no shared rolled-back transaction.
    pytest.mark.committed,
]


def race(app, work, n=THREADS):
    """Run work(i) in n threads, each in its own app context, released together; the outcomes."""
    barrier = threading.Barrier(n)
    outcomes = [None] * n

    def run(i):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                outcomes[i] = ("ok", work(i))
            except cases.StaleCase as exc:
                outcomes[i] = ("stale", exc.message)
            except Exception as exc:  # anything else is a failure of the test
                outcomes[i] = ("error", repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def _actions(app, case_id):
    with app.app_context():
        return (
            db.session.execute(db.select(CaseEvent.action).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))
            .scalars()
            .all()
        )


def test_twenty_clerks_accepting_one_case_leave_one_acceptance(app, clock):
    with app.app_context():
        case = submitted_case()
        case_id, clerk_id = case.id, person("赵敏").id
    outcomes = race(app, lambda i: cases.accept(case_id, db.session.get(type(person("赵敏")), clerk_id), 1).state)
    assert sorted(kind for kind, _ in outcomes) == ["ok"] + ["stale"] * (THREADS - 1), outcomes
    assert _actions(app, case_id) == ["submit", "accept"]
    with app.app_context():
        assert db.session.get(Case, case_id).version == 2
        assert len(db.session.get(Case, case_id).steps) == 1 and len(db.session.get(Case, case_id).documents) == 1


def test_mixed_actions_on_one_case_leave_one_transition(app, clock):
    with app.app_context():
        case = submitted_case()
        case_id = case.id

    def act(i):
        clerk = person("赵敏")
        if i % 3 == 0:
            return cases.accept(case_id, clerk, 1).state
        if i % 3 == 1:
            return cases.request_supplement(case_id, clerk, 1, [{"material": "premises", "reason": "不清晰"}]).state
        return cases.not_accept(case_id, clerk, 1, reason="不属于职权", basis="《行政许可法》第三十二条").state

    outcomes = race(app, act)
    assert [kind for kind, _ in outcomes].count("ok") == 1 and not [o for o in outcomes if o[0] == "error"], outcomes
    assert len(_actions(app, case_id)) == 2


def test_twenty_claims_of_one_step_leave_one_claim(app, clock):
    with app.app_context():
        case = accepted_case()
        case_id, version = case.id, case.version
    outcomes = race(app, lambda i: review.claim(case_id, person("刘洋"), version).state)
    assert sorted(kind for kind, _ in outcomes) == ["ok"] + ["stale"] * (THREADS - 1), outcomes
    assert _actions(app, case_id) == ["submit", "accept", "claim"]


def test_joint_departments_deciding_at_the_same_moment_decide_the_case_once(app, clock):
    with app.app_context():
        case = accepted_case_of(workflow_item(workflow=JOINT))
        review.claim(case.id, person("刘洋"), case.version)
        review.claim(case.id, person("陈静"), case.version)
        case_id, page = case.id, db.session.get(Case, case.id).version

    def decide(i):
        officer = person("刘洋" if i % 2 else "陈静")
        return review.decide(case_id, officer, page, approve=True, opinion=f"同意（{i}）").state

    outcomes = race(app, decide)
    assert [kind for kind, _ in outcomes].count("ok") == 2 and not [o for o in outcomes if o[0] == "error"], outcomes
    actions = _actions(app, case_id)
    assert actions.count("approve") == 1 and actions.count("step_approve") == 1 and actions[-1] == "complete"
    with app.app_context():
        assert [
            s.status for s in db.session.execute(db.select(CaseStep).where(CaseStep.case_id == case_id)).scalars()
        ] == ["approved", "approved"]
        assert db.session.get(Case, case_id).state == "completed"


def test_twenty_requests_through_the_web_leave_one_acceptance_and_no_error_page(app, login_as, clock):
    with app.app_context():
        number, case_id = (c := submitted_case()).number, c.id
    clients = [app.test_client() for _ in range(THREADS)]
    for client in clients:
        login_as(client, "赵敏")
    responses = [None] * THREADS
    barrier = threading.Barrier(THREADS)

    def post(i):
        barrier.wait(timeout=30)
        if i % 2:
            responses[i] = clients[i].post(
                f"/window/cases/{number}/accept", data={"version": "1"}, follow_redirects=True
            )
        else:
            responses[i] = clients[i].post(
                f"/window/cases/{number}/supplement",
                data={"version": "1", "need_premises": "1", "reason_premises": "复印件不清晰"},
                follow_redirects=True,
            )

    threads = [threading.Thread(target=post, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert [r.status_code for r in responses] == [200] * THREADS
    pages = [r.get_data(as_text=True) for r in responses]
    told = [p for p in pages if "可能已被他人处理。请刷新页面后查看。" in p]
    done = [p for p in pages if "已受理办件" in p or "已出具一次性告知书" in p]
    assert len(done) == 1 and len(told) == THREADS - 1
    assert len(_actions(app, case_id)) == 2


def test_case_numbers_stay_unique_under_concurrent_intake(app, clock):
    with app.app_context():
        applicants = [person(name).id for name in ("张三", "李娜")]

    def intake(i):
        from govservice.identity.models import Person

        case, created = cases.intake_at_window(
            person("赵敏"),
            db.session.get(Person, applicants[i % 2]),
            catalog.current_item(ITEM),
            dict(ANSWERS),
            [pdf_file()],
            uuid.uuid4().hex,
        )
        return case.number

    outcomes = race(app, intake)
    numbers = sorted(n for kind, n in outcomes if kind == "ok")
    assert len(numbers) == THREADS, outcomes
    first = int(numbers[0][-6:])  # nothing failed, so nothing was skipped: consecutive
    assert numbers == [f"11010520261123{first + i:06d}" for i in range(THREADS)]


def test_racing_copies_of_one_submission_make_one_case_each_with_a_number_of_its_own(app, clock):
    """Ten submissions, each sent twice at the same moment (a double click): one case each, and
    both copies answer with its number. The copy whose INSERT is refused had drawn the sequence in
    that INSERT, and a sequence gives nothing back: its value is skipped (a gap)."""
    keys = [uuid.uuid4().hex for _ in range(THREADS // 2)]
    with app.app_context():
        applicant_id = person("张三").id

    def submit(i):
        from govservice.identity.models import Person

        case, created = cases.submit_application(
            db.session.get(Person, applicant_id), catalog.current_item(ITEM), ANSWERS, [pdf_file()], keys[i // 2]
        )
        return keys[i // 2], case.number, created

    outcomes = race(app, submit)
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    by_key = {}
    for _kind, (key, number, created) in outcomes:
        by_key.setdefault(key, []).append((number, created))
    assert all(
        len({n for n, _ in copies}) == 1 and sorted(c for _, c in copies) == [False, True] for copies in by_key.values()
    ), by_key
    numbers = {copies[0][0] for copies in by_key.values()}
    assert len(numbers) == len(keys) and all(n.startswith("11010520261123") and len(n) == 20 for n in numbers)


def test_queue_numbers_stay_unique_when_twenty_people_take_one(app, clock):
    outcomes = race(app, lambda i: window.issue_ticket("cy-zwfwzx").seq)
    assert sorted(seq for _, seq in outcomes) == list(range(1, THREADS + 1)), outcomes
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(QueueTicket.id))).scalar_one() == THREADS


def test_two_clerks_calling_at_once_never_call_the_same_number(app, clock):
    with app.app_context():
        for _ in range(THREADS):
            window.issue_ticket("cy-zwfwzx")

    def call(i):
        return window.call_next(person("赵敏")).seq

    outcomes = race(app, call)
    assert sorted(seq for _, seq in outcomes) == list(range(1, THREADS + 1)), outcomes


def test_a_submission_waits_for_no_other_to_number_its_case(app):
    """One submission stops midway, inside its transaction, after its INSERT drew its number;
    another submission of the same day goes through meanwhile without waiting for any lock (a
    day counter's row would be locked by the first until its commit)."""
    inside, release = threading.Event(), threading.Event()
    outcomes = {}

    def slow(i):
        with app.app_context():
            applicant, item = person("张三"), catalog.current_item(ITEM)

            def wait(case):
                inside.set()
                release.wait(timeout=30)

            case, _created = cases.submit_application(
                applicant, item, ANSWERS, [pdf_file()], uuid.uuid4().hex, before_commit=wait
            )
            outcomes["slow"] = case.number
            db.session.remove()

    thread = threading.Thread(target=slow, args=(0,))
    thread.start()
    assert inside.wait(timeout=30)
    try:
        with app.app_context():
            applicant, item = person("李娜"), catalog.current_item(ITEM)
            db.session.execute(text("SET LOCAL lock_timeout = '2s'"))  # a lock waited for fails the test
            fast, _created = cases.submit_application(applicant, item, ANSWERS, [pdf_file()], uuid.uuid4().hex)
            outcomes["fast"] = fast.number
            outcomes["fast_done_while_slow_open"] = not release.is_set()
            db.session.remove()
    finally:
        release.set()
        thread.join(timeout=30)
    assert outcomes["fast"] and outcomes["slow"] and outcomes["fast"] != outcomes["slow"]
    assert outcomes["fast_done_while_slow_open"]
    assert outcomes["slow"] < outcomes["fast"]  # drawn in the order of the INSERTs, not of the commits
