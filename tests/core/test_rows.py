"""Rows kept for the commit (`core.rows.defer`): written with it, exactly as given, or not at all."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import event, select

from govservice.audit.models import AuditEntry
from govservice.cases.models import CaseEvent
from govservice.core import rows
from govservice.core.extensions import db
from govservice.notify.models import Notice
from tests.factories import person, submitted_case

AT = datetime(2026, 12, 2, 1, 2, 3, 456789, tzinfo=UTC)


def _entry(subject: str) -> dict:
    return {
        "at": AT,
        "actor_id": None,
        "action": "test.kept",
        "subject": subject,
        "case_id": None,
        "purpose": "百分号 100% 与引号 ' \" 与反斜杠 \\ 原样保存",
        "detail": {"列表": [1, 2.5, None, True], "嵌套": {"键": "值"}, "空": ""},
    }


def _entries(subject: str) -> list[AuditEntry]:
    return list(db.session.execute(select(AuditEntry).where(AuditEntry.subject == subject)).scalars())


def test_kept_rows_are_written_by_the_commit_with_their_values_as_given(ctx):
    subject = f"test:{uuid.uuid4().hex}"
    rows.defer()
    entry = rows.insert_one(AuditEntry, _entry(subject), key_needed=False)
    assert entry.subject == subject  # kept (PostgreSQL: no key read back) or written (SQLite)
    rows.insert_many(AuditEntry, [_entry(subject), _entry(subject)])
    rows.commit()
    db.session.expire_all()
    found = _entries(subject)
    assert len(found) == 3
    for row in found:
        assert row.at == AT
        assert row.purpose == _entry(subject)["purpose"]
        assert row.detail == _entry(subject)["detail"]


def test_a_plain_commit_still_writes_what_was_kept(ctx):
    subject = f"test:{uuid.uuid4().hex}"
    rows.defer()
    rows.insert_many(AuditEntry, [_entry(subject)])
    db.session.commit()  # not rows.commit(): the session's own commit sends them first
    db.session.expire_all()
    assert len(_entries(subject)) == 1


def test_a_rollback_drops_what_was_kept(ctx):
    subject = f"test:{uuid.uuid4().hex}"
    rows.defer()
    rows.insert_many(AuditEntry, [_entry(subject)])
    db.session.rollback()
    db.session.commit()
    assert _entries(subject) == []
    assert rows.DEFERRED not in db.session.info


def test_a_missing_column_gets_its_default_as_the_orm_would_give_it(ctx):
    case = submitted_case()
    rows.defer()
    rows.insert_many(Notice, [{"recipient_id": case.applicant_id, "case_id": case.id, "kind": "case.test"}])
    rows.commit()
    notice = db.session.execute(select(Notice).where(Notice.kind == "case.test")).scalar_one()
    assert notice.params == {} and notice.created_at is not None and notice.queued is False


@pytest.mark.committed  # a refused script aborts the transaction: on a real connection, not a savepoint
def test_a_kept_row_the_database_refuses_undoes_the_whole_transaction(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("rows are kept only on PostgreSQL; on SQLite the INSERT refuses at once")
        case = submitted_case()
        subject = f"test:{uuid.uuid4().hex}"
        rows.insert_many(AuditEntry, [_entry(subject)])  # before the keeping: written at once
        rows.defer()
        rows.insert_many(CaseEvent, [{"case_id": case.id + 10_000_000, "at": AT, "action": "x", "to_state": "x"}])
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            rows.commit()
        assert _entries(subject) == []  # the session is usable again, and nothing of the transaction stayed
        assert db.session.get(type(case), case.id) is not None


@pytest.mark.committed  # the COMMIT itself goes with the rows: only on a real connection, not a savepoint
def test_a_submission_sends_its_rows_and_commit_in_one_round_trip(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("rows are kept for the commit only on PostgreSQL")
        person("张三")  # made (and committed) before counting
        submitted_case()  # the first prepares what every submission uses
        sent = []  # what went to the database, in order: SQLAlchemy's statements and the scripts
        sends = psycopg.ClientCursor.execute

        def script(self, query, params=None, **kw):
            sent.append(("script", query))
            return sends(self, query, params, **kw)

        def seen(conn, cursor, statement, *_args):
            sent.append(("statement", " ".join(statement.split())))

        event.listen(db.engine, "before_cursor_execute", seen)
        psycopg.ClientCursor.execute = script
        try:
            case = submitted_case()
        finally:
            psycopg.ClientCursor.execute = sends
            event.remove(db.engine, "before_cursor_execute", seen)
        assert case.number
        (start,) = [i for i, (_, text) in enumerate(sent) if "INSERT INTO cases" in text]
        (end,) = [i for i, (kind, _) in enumerate(sent) if kind == "script"]
        between = [text for _, text in sent[start:end]]
        # the case with its number drawn from the sequence, in one statement; embedded (no
        # broker) the notice too, whose key its sending after the commit needs; then one script:
        # the attachment, the event, the audit entry, COMMIT
        # (unless the key found its case: see test_a_form_sent_again_costs_one_statement_and_writes_nothing)
        assert between[0].startswith("WITH found AS (SELECT") and "nextval('case_number_seq')" in between[0]
        assert "INSERT INTO cases" in between[0]
        assert [text.split(" (")[0] for text in between[1:]] in ([], ["INSERT INTO notices"]), between
        assert not any(text.startswith("UPDATE cases") for _, text in sent)  # no second version of the row
        script_text = sent[end][1]
        assert script_text.rstrip().endswith("COMMIT")
        for table in ("attachments", "case_events", "audit_entries"):
            assert f"INSERT INTO {table} " in script_text
        db.session.remove()
        stored = db.session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)).scalars().all()
        assert [e.action for e in stored] == ["submit"]
        audit = db.session.execute(select(AuditEntry).where(AuditEntry.subject == f"case:{case.number}")).scalars()
        assert [a.action for a in audit] == ["case.submit"]
        notice = db.session.execute(select(Notice).where(Notice.case_id == case.id)).scalar_one()
        assert notice.params["number"] == case.number


@pytest.mark.committed  # the first copy committed, as a double click finds it
def test_a_form_sent_again_costs_one_statement_and_writes_nothing(app):
    from govservice.cases import services as cases
    from govservice.cases.models import Case
    from govservice.catalog import services as catalog
    from govservice.core.counters import Counter
    from tests.factories import ANSWERS, ITEM, pdf_file

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("on SQLite the second INSERT is refused and the case looked up (two statements)")
        first = submitted_case(key="sent-twice")
        first = (first.id, first.number)
        counters_before = db.session.execute(select(Counter.name, Counter.value)).all()
        db.session.remove()
        sent = []

        def seen(conn, cursor, statement, *_args):
            sent.append(" ".join(statement.split()))

        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            again, created = cases.submit_application(
                person("张三"), catalog.current_item(ITEM), dict(ANSWERS), [pdf_file()], "sent-twice"
            )
            number = again.number
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
        db.session.remove()
        assert not created and (again.id, number) == first
        assert [text.split(" AS (")[0] for text in sent if "cases" in text] == ["WITH found"], sent
        assert db.session.execute(select(Counter.name, Counter.value)).all() == counters_before  # nothing drawn
        assert db.session.execute(select(db.func.count(Case.id))).scalar_one() == 1
