"""Issuance in parallel: no lock is held while a certificate renders, one case gets one
certificate however many issuers race for it, serials never repeat, and what is heavy is
loaded once per process.

The races run in threads, each with its own app context (its own session and connection),
on SQLite and on PostgreSQL (DATABASE_URL): on both, the point is that nothing is held while
the PDF renders, so the second issuer never waits for the first.
"""

from __future__ import annotations

import threading

import pytest
from celery.exceptions import Retry
from celery.signals import worker_process_init
from pyhanko.sign import signers
from pyhanko.sign.signers.pdf_signer import PdfSigningSession
from reportlab.pdfbase import ttfonts
from sqlalchemy.exc import OperationalError

from govservice.audit.models import AuditEntry
from govservice.cases.models import Case, CaseEvent
from govservice.certificates import identifiers, pdf, serials, services, signing, tasks
from govservice.certificates.models import Certificate
from govservice.core.extensions import db
from govservice.review import services as review

from ..factories import DATA, in_review_case, person
from ..factories import person as staff

WAIT = 20  # seconds: far longer than an issuance takes, far shorter than a hung test


@pytest.fixture
def app_config():
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 5, "max_overflow": 10}}


def in_thread(app, work, name):
    """Run work() in a thread of its own with its own app context; (thread, outcome dict)."""
    outcome = {}

    def run():
        with app.app_context():
            try:
                outcome["value"] = work()
            except Exception as exc:  # reported by the test's assertions
                outcome["error"] = exc
            finally:
                db.session.remove()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread, outcome


def serial_of(identifier: str) -> int:
    return int(identifiers.parse_identifier(identifier).serial)


# Committed: two issuers in threads of their own, each on its own connection, must not wait on each other.
@pytest.mark.committed
def test_a_second_issuer_is_not_held_up_while_the_first_renders(app, clock, monkeypatch):
    """The first issuer is stopped inside rendering until the second has finished: with the
    serial's counter (or any row) still locked by the first, the second would wait for ever."""
    with app.app_context():
        holder_id = person("张三").id
    first_renders, second_done = threading.Event(), threading.Event()
    in_transaction = []
    real_render = pdf.render_certificate_pdf

    def render(**kwargs):
        in_transaction.append(db.session().in_transaction())
        if threading.current_thread().name == "first":
            first_renders.set()
            assert second_done.wait(WAIT), "the second issuer did not finish while the first was rendering"
        return real_render(**kwargs)

    monkeypatch.setattr(pdf, "render_certificate_pdf", render)

    def issue():
        from govservice.identity.models import Person

        return services.issue("yyzz", db.session.get(Person, holder_id), DATA["yyzz"]).identifier

    first, first_outcome = in_thread(app, issue, "first")
    assert first_renders.wait(WAIT)
    second, second_outcome = in_thread(app, issue, "second")
    second.join(WAIT)
    finished_while_first_rendered = not second.is_alive() and "value" in second_outcome
    second_done.set()
    first.join(WAIT)
    assert finished_while_first_rendered, second_outcome
    assert "value" in first_outcome, first_outcome
    assert serial_of(first_outcome["value"]) != serial_of(second_outcome["value"])
    assert in_transaction == [False, False]  # rendering ran with no transaction open


def _approved_case_without_certificate(monkeypatch):
    """An approved case whose issuance has not run yet (as when its task is still queued)."""
    with monkeypatch.context() as queued:
        queued.setattr(tasks.issue_for_case_task, "delay", lambda case_id: None)
        case = in_review_case()
        review.decide(case.id, staff("刘洋"), case.version, approve=True, opinion="准予登记")
    assert db.session.get(Case, case.id).state == "approved"
    return case.id


# Committed: two issuers race in threads of their own, each on its own connection.
@pytest.mark.committed
def test_two_issuers_of_one_case_at_once_give_one_certificate(app, clock, monkeypatch):
    """Both pass the "already issued?" check (they meet inside rendering); the database's
    unique index lets one insert, and the other answers with that certificate."""
    with app.app_context():
        case_id = _approved_case_without_certificate(monkeypatch)
    both_render = threading.Barrier(2)
    real_render = pdf.render_certificate_pdf

    def render(**kwargs):
        both_render.wait(WAIT)
        return real_render(**kwargs)

    monkeypatch.setattr(pdf, "render_certificate_pdf", render)
    runs = [in_thread(app, lambda: services.issue_for_case(case_id).identifier, f"issuer-{i}") for i in range(2)]
    for thread, _ in runs:
        thread.join(WAIT)
    outcomes = [outcome for _, outcome in runs]
    assert all("value" in o for o in outcomes), outcomes
    assert outcomes[0]["value"] == outcomes[1]["value"]
    with app.app_context():
        issued = db.session.execute(db.select(Certificate.identifier).where(Certificate.case_id == case_id)).scalars()
        assert list(issued) == [outcomes[0]["value"]]
        assert db.session.get(Case, case_id).state == "completed"
        actions = db.session.execute(db.select(CaseEvent.action).where(CaseEvent.case_id == case_id)).scalars()
        assert list(actions).count("complete") == 1
        audited = db.session.execute(
            db.select(db.func.count(AuditEntry.id)).where(
                AuditEntry.action == "certificate.issue", AuditEntry.case_id == case_id
            )
        ).scalar_one()
        assert audited == 1


def test_a_duplicated_task_issues_once(ctx, clock, monkeypatch):
    case_id = _approved_case_without_certificate(monkeypatch)
    # .result, not .get(): Celery's "inside a task" flag is process-wide and eager tasks run
    # in threads by other tests can leave it set
    first = tasks.issue_for_case_task.delay(case_id).result
    again = tasks.issue_for_case_task.delay(case_id).result  # the case is completed: nothing to do
    assert first and again is None
    assert (
        db.session.execute(db.select(db.func.count(Certificate.id)).where(Certificate.case_id == case_id)).scalar_one()
        == 1
    )


def test_a_transient_failure_is_tried_again_inline(ctx, clock, monkeypatch):
    case_id = _approved_case_without_certificate(monkeypatch)
    real, calls = services.issue_for_case, []

    def flaky(case_id):
        calls.append(case_id)
        if len(calls) == 1:
            raise OperationalError("INSERT ...", {}, Exception("server closed the connection unexpectedly"))
        return real(case_id)

    monkeypatch.setattr(services, "issue_for_case", flaky)
    monkeypatch.setattr(tasks.time, "sleep", lambda seconds: None)
    identifier = tasks.issue_for_case_task.delay(case_id).result
    assert len(calls) == 2
    assert services.find(identifier).case_id == case_id and db.session.get(Case, case_id).state == "completed"


def test_a_worker_retries_a_transient_failure_through_the_broker(ctx, monkeypatch):
    failure = OperationalError("SELECT nextval(...)", {}, Exception("could not connect to server"))
    monkeypatch.setattr(services, "issue_for_case", lambda case_id: (_ for _ in ()).throw(failure))
    asked = {}

    def retry(exc, countdown):
        asked.update(exc=exc, countdown=countdown)
        return Retry(exc=exc, when=countdown)

    monkeypatch.setattr(tasks.issue_for_case_task, "retry", retry)
    tasks.issue_for_case_task.push_request(is_eager=False, retries=2)
    try:
        with pytest.raises(Retry):
            tasks.issue_for_case_task.run(42)
    finally:
        tasks.issue_for_case_task.pop_request()
    assert asked == {"exc": failure, "countdown": 4.0}  # backing off: 1, 2, 4, ... seconds


# Committed: serials drawn at once from threads of their own, each on its own connection.
@pytest.mark.committed
def test_serials_drawn_at_once_never_repeat(app):
    def draw_five():
        values = []
        for _ in range(5):
            values.append(serials.next_serial("certificate", "certificate:test:race"))
            db.session.commit()
        return values

    runs = [in_thread(app, draw_five, f"drawer-{i}") for i in range(8)]
    for thread, _ in runs:
        thread.join(WAIT)
    drawn = [v for _, outcome in runs for v in outcome.get("value", [])]
    assert len(drawn) == 40 and len(set(drawn)) == 40, [o for _, o in runs]


def test_fonts_layouts_and_keys_are_loaded_once_not_per_certificate(ctx, clock, monkeypatch):
    loads = {"font": 0, "signer": 0, "types": 0, "size estimate": 0, "paths validated": 0}

    def counting(name, real):
        def wrapper(*args, **kwargs):
            loads[name] += 1
            return real(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(ttfonts.TTFont, "__init__", counting("font", ttfonts.TTFont.__init__))
    monkeypatch.setattr(signers.SimpleSigner, "load", counting("signer", signers.SimpleSigner.load))
    monkeypatch.setattr(services, "load_types", counting("types", services.load_types))
    monkeypatch.setattr(
        PdfSigningSession,
        "estimate_signature_container_size",
        counting("size estimate", PdfSigningSession.estimate_signature_container_size),
    )
    monkeypatch.setattr(
        PdfSigningSession,
        "perform_presign_validation",
        counting("paths validated", PdfSigningSession.perform_presign_validation),
    )
    holder = person("张三")
    pdfs = [services.pdf_bytes(services.issue("yyzz", holder, DATA["yyzz"])) for _ in range(3)]
    # the layouts were loaded by create_app; the font and the signing key by the first PDF of the
    # process (or of this app); pyHanko sizes the signature once per signing key, and the signer's
    # and the TSA's paths are validated once per validation context (a minute)
    assert loads["font"] <= 1 and loads["signer"] <= 1 and loads["types"] == 0 and loads["size estimate"] == 1
    assert loads["paths validated"] == 1
    roots = services.pdf_signer().trust_roots
    assert all(signing.validate_pdf(document, roots).valid for document in pdfs)


def test_the_issued_rows_are_not_read_back(ctx, clock):
    """The listeners of the issue (the holder's notice) read the certificate just written from the
    session, as it was inserted, not from the database again."""
    from sqlalchemy import event

    holder = person("张三")
    statements = []
    event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    certificate = services.issue("yyzz", holder, DATA["yyzz"])
    assert not any(s.lstrip().upper().startswith("SELECT CERTIFICATES.") for s in statements), statements
    stored = db.session.execute(db.select(Certificate).where(Certificate.id == certificate.id)).scalar_one()
    db.session.refresh(stored)
    assert (stored.identifier, stored.pdf_sha256, stored.token) == (
        certificate.identifier,
        certificate.pdf_sha256,
        certificate.token,
    )


def test_a_worker_process_is_ready_before_its_first_certificate(app, clock, monkeypatch):
    estimates = []
    real = PdfSigningSession.estimate_signature_container_size

    async def counting(*args, **kwargs):
        estimates.append(1)
        return await real(*args, **kwargs)

    monkeypatch.setattr(PdfSigningSession, "estimate_signature_container_size", counting)
    tasks.prepare_worker_process(app)  # what govservice.app.worker does before the pool forks
    worker_process_init.disconnect(dispatch_uid=tasks.FRESH_CONNECTIONS)
    assert estimates == [1]
    with app.app_context():
        services.issue("yyzz", person("张三"), DATA["yyzz"])
    assert estimates == [1]  # the first real certificate reuses what the warm-up measured


def test_a_change_renders_before_it_supersedes(ctx, clock, monkeypatch):
    certificate = services.issue("yyzz", person("张三"), DATA["yyzz"])
    from govservice.certificates import lifecycle

    seen = []
    real = pdf.render_certificate_pdf

    def render(**kwargs):
        seen.append(
            (
                db.session().in_transaction(),
                db.session.execute(db.select(Certificate.status).where(Certificate.id == certificate.id)).scalar_one(),
            )
        )
        db.session.rollback()  # the check's own read must not leave a transaction behind
        return real(**kwargs)

    monkeypatch.setattr(pdf, "render_certificate_pdf", render)
    new = lifecycle.supersede(certificate.id, staff("刘洋"), {"address": "北京市朝阳区示例路9号"}, "经营场所变更")
    assert seen == [(False, "valid")]  # rendered with no transaction open, the old one untouched yet
    assert db.session.get(Certificate, certificate.id).status == "superseded" and new.version == 2
