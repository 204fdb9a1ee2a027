"""The timers (issue 10, point 4): each does its work once, and running it again does nothing more.
`flask govservice tick` runs every entry of the Celery beat schedule, read from the schedule."""

from __future__ import annotations

import os
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from celery import shared_task
from sqlalchemy import func, select

from govservice.cases import lapses
from govservice.cases import services as cases
from govservice.cases.models import Case, CaseEvent
from govservice.certificates import expiry
from govservice.certificates.models import Certificate
from govservice.core.clock import BEIJING
from govservice.core.extensions import db
from govservice.identity import sessions
from govservice.identity.models import WebSession
from govservice.notify import services as notify
from govservice.notify.models import Notice
from govservice.review import services as review

from ..factories import in_review_case, issue, pdf_file, person, run_together, submitted_case

MISSING = [{"material": "premises", "reason": "租赁合同复印件不清晰"}]


def _on(clock, y, m, d, hour=10):
    clock.at = datetime(y, m, d, hour, 0, tzinfo=BEIJING).astimezone(UTC)


def _events(case_id):
    return list(
        db.session.execute(
            select(CaseEvent.action).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        ).scalars()
    )


def _notices(person_id, kind):
    return list(
        db.session.execute(select(Notice).where(Notice.recipient_id == person_id, Notice.kind == kind)).scalars()
    )


def test_a_supplement_past_its_date_lapses_once_and_the_applicant_is_told(ctx, clock):
    at_window = cases.request_supplement(submitted_case().id, person("赵敏"), 1, MISSING, due=date(2026, 11, 25))
    reviewed = in_review_case()
    from_department = review.return_for_supplement(
        reviewed.id, person("刘洋"), reviewed.version, MISSING, due=date(2026, 11, 30)
    )
    answered = cases.request_supplement(submitted_case("李娜").id, person("赵敏"), 1, MISSING, due=date(2026, 11, 25))
    cases.resubmit(answered.id, person("李娜"), answered.version, [pdf_file()])

    _on(clock, 2026, 11, 25)  # the last day to supply: nothing lapses yet
    assert lapses.lapse_overdue_supplements() == 0
    _on(clock, 2026, 11, 26, hour=0)
    assert lapses.lapse_overdue_supplements() == 1
    assert lapses.lapse_overdue_supplements() == 0  # twice: nothing more
    case = db.session.get(Case, at_window.id)
    assert case.state == "withdrawn" and _events(case.id)[-1] == "lapse"
    assert "补正期限 2026-11-25 已届满" in case.events[-1].note and case.events[-1].actor_id is None
    assert db.session.get(Case, from_department.id).state == "supplement_requested"  # its date is later
    assert db.session.get(Case, answered.id).state == "submitted"  # answered in time

    [told] = _notices(case.applicant_id, "case.lapse")
    title, body = notify.render(told)
    assert title == f"办件 {case.number} 逾期未补正，视为撤回" and "视为撤回申请" in body
    from govservice.audit.models import AuditEntry

    assert (
        db.session.execute(
            select(func.count()).where(AuditEntry.action == "case.lapse", AuditEntry.case_id == case.id)
        ).scalar_one()
        == 1
    )

    _on(clock, 2026, 12, 1)
    assert lapses.lapse_overdue_supplements() == 1  # the department's, after its own date
    assert db.session.get(Case, from_department.id).state == "withdrawn"
    assert lapses.lapse_overdue_supplements() == 0


def test_a_lapsed_case_can_no_longer_be_answered(ctx, clock):
    case = cases.request_supplement(submitted_case().id, person("赵敏"), 1, MISSING, due=date(2026, 11, 25))
    _on(clock, 2026, 11, 26)
    lapses.lapse_overdue_supplements()
    with pytest.raises(cases.CaseError):
        cases.resubmit(case.id, person("张三"), case.version + 1, [pdf_file()])
    assert db.session.get(Case, case.id).state == "withdrawn"


def test_a_certificate_30_days_before_expiry_notifies_its_holder_once(ctx, clock):
    soon = issue("jzz")  # 居住证: valid one year
    later = issue("jzz")
    db.session.execute(
        db.update(Certificate)
        .where(Certificate.id == soon.id)
        .values(expires_at=clock.now() + timedelta(days=29, hours=23))
    )
    db.session.execute(
        db.update(Certificate).where(Certificate.id == later.id).values(expires_at=clock.now() + timedelta(days=31))
    )
    db.session.commit()
    assert expiry.notify_expiring() == 1
    assert expiry.notify_expiring() == 0  # twice: nothing more
    [told] = _notices(soon.holder_id, "certificate.expiring")
    title, body = notify.render(told)
    assert title == "您的居住证即将到期" and "还有 29 天" in body and told.url == "/wallet"
    clock.advance(days=2)  # now the other is within 30 days
    assert expiry.notify_expiring() == 1
    assert len(_notices(soon.holder_id, "certificate.expiring")) == 2


def test_revoked_or_expired_certificates_are_not_told(ctx, clock):
    revoked, expired = issue("jzz"), issue("jzz")
    db.session.execute(
        db.update(Certificate)
        .where(Certificate.id == revoked.id)
        .values(status="revoked", expires_at=clock.now() + timedelta(days=3))
    )
    db.session.execute(
        db.update(Certificate).where(Certificate.id == expired.id).values(expires_at=clock.now() - timedelta(days=1))
    )
    db.session.commit()
    assert expiry.notify_expiring() == 0
    assert not _notices(revoked.holder_id, "certificate.expiring")


def test_ended_sessions_are_purged_once(ctx, clock):
    store = ctx.extensions["session_store"] = sessions.DatabaseStore()  # (Redis expires its own keys)
    now = clock.now()
    for key, last_seen in (("ended", now - timedelta(hours=1)), ("live", now)):
        store.save(
            key,
            sessions.Record(data="x", person_id=None, created_at=last_seen, last_seen_at=last_seen, idle_seconds=1800),
            12 * 3600,
        )
    from govservice.identity.tasks import purge_sessions_task

    assert purge_sessions_task() == 1
    assert purge_sessions_task() == 0
    assert db.session.execute(select(WebSession.key)).scalars().all() == ["live"]


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
    reason="two timers at once: row locking, tested on PostgreSQL (the PostgreSQL + Redis run)",
)
@pytest.mark.committed  # threads on connections of their own, each committing: a real race
def test_two_expiry_timers_at_once_tell_the_holder_once(app, ctx, clock):
    soon = issue("jzz")
    db.session.execute(
        db.update(Certificate).where(Certificate.id == soon.id).values(expires_at=clock.now() + timedelta(days=10))
    )
    db.session.commit()
    told, start = [], threading.Barrier(2)

    def timer(_i):
        with app.app_context():
            start.wait()
            told.append(expiry.notify_expiring())
            db.session.remove()

    run_together(2, timer)
    assert sorted(told) == [0, 1] and len(_notices(soon.holder_id, "certificate.expiring")) == 1


@shared_task(name="tests.ops.counted")
def _counted_task():
    _counted_task.runs = getattr(_counted_task, "runs", 0) + 1
    return "counted"


def test_tick_runs_every_entry_of_the_beat_schedule_even_one_added_later(app, clock):
    celery = app.extensions["celery"]
    names = set(celery.conf.beat_schedule)
    assert {
        "audit-seal",
        "verifications-drain",
        "supplements-lapse",
        "certificates-expiring",
        "sessions-purge",
    } <= names
    celery.conf.beat_schedule["test-counted"] = {"task": "tests.ops.counted", "schedule": 60.0}
    result = app.test_cli_runner().invoke(args=["govservice", "tick"])
    assert result.exit_code == 0, result.output
    ran = {line.split("\t")[0]: line.split("\t")[2] for line in result.output.splitlines()}
    assert set(ran) == names | {"test-counted"} and ran["test-counted"] == "counted"
    assert _counted_task.runs == 1
    again = app.test_cli_runner().invoke(args=["govservice", "tick", "--only", "test-counted"])
    assert again.exit_code == 0 and _counted_task.runs == 2


def test_tick_reports_a_failing_timer_and_exits_1(app, clock):
    celery = app.extensions["celery"]
    celery.conf.beat_schedule["test-unknown-state"] = {"task": "tests.ops.fails", "schedule": 60.0}

    @shared_task(name="tests.ops.fails")
    def fails():
        raise RuntimeError("the timer broke")

    result = app.test_cli_runner().invoke(args=["govservice", "tick"])
    assert result.exit_code == 1
    assert "test-unknown-state\ttests.ops.fails\tFAILED RuntimeError('the timer broke')" in result.output
    assert "audit-seal\taudit.seal\t" in result.output  # the others still ran
    unknown = app.test_cli_runner().invoke(args=["govservice", "tick", "--only", "nonsense"])
    assert unknown.exit_code == 2 and "not in the beat schedule: nonsense" in unknown.output
