"""Case transitions at the service level: rights, states, versions, events and audit."""
from datetime import date

import pytest

from govservice import pii
from govservice.audit.models import AuditEntry
from govservice.audit.services import verify_chain
from govservice.cases import services as cases
from govservice.cases.models import Case, CaseEvent
from govservice.catalog import services as catalog
from govservice.extensions import db

from ..factories import ANSWERS, ITEM, accepted_case, in_review_case, pdf_file, person, submitted_case


def test_submission_makes_a_numbered_case_with_its_event_audit_and_material(ctx, clock):
    case = submitted_case()
    assert case.number == "11010520261123000001"
    assert case.state == "submitted" and case.channel == "online" and case.version == 1
    assert [e.action for e in case.events] == ["submit"]
    assert case.attachments[0].content_type == "application/pdf"
    assert db.session.execute(db.select(AuditEntry.action).where(AuditEntry.case_id == case.id)).scalars().all() \
        == ["case.submit"]
    assert submitted_case().number == "11010520261123000002"


def test_answers_are_encrypted_at_rest(ctx, clock):
    case = submitted_case()
    stored = db.session.execute(db.select(Case.form_data_enc)).scalar_one()
    assert "110105198802150035" not in stored and "张三" not in stored
    assert case.form_data["operator_id_number"] == "110105198802150035"


def test_the_same_idempotency_key_makes_one_case(ctx, clock):
    first = submitted_case(key="same-key")
    second = submitted_case(key="same-key")
    assert first.id == second.id
    assert db.session.execute(db.select(db.func.count(Case.id))).scalar_one() == 1


def test_a_missing_required_material_is_refused_and_nothing_is_written(ctx, clock):
    with pytest.raises(cases.CaseError, match="经营场所使用证明"):
        cases.submit_application(person("张三"), catalog.current_item(ITEM), dict(ANSWERS), [], "k1")
    assert db.session.execute(db.select(db.func.count(Case.id))).scalar_one() == 0


def test_acceptance_starts_the_clock_in_working_days(ctx, clock):
    case = accepted_case()
    assert case.state == "accepted" and case.version == 2
    assert case.deadline == date(2026, 11, 26) and not case.deadline_provisional
    assert case.events[-1].note.endswith("2026-11-26")


def test_a_second_accept_changes_nothing_and_says_why(ctx, clock):
    case = submitted_case()
    clerk = person("赵敏")
    cases.accept(case.id, clerk, 1)
    with pytest.raises(cases.StaleCase, match="已受理"):
        cases.accept(case.id, clerk, 1)
    assert len(db.session.get(Case, case.id).events) == 2


def test_a_stale_page_is_refused(ctx, clock):
    case = submitted_case()
    with pytest.raises(cases.StaleCase):
        cases.accept(case.id, person("赵敏"), expected_version=7)
    assert db.session.get(Case, case.id).state == "submitted"


def test_only_the_right_actor_may_fire_each_transition(ctx, clock):
    case = submitted_case()
    with pytest.raises(cases.CaseError, match="无权"):
        cases.accept(case.id, person("张三"), case.version)          # the applicant cannot accept
    case = cases.accept(case.id, person("赵敏"), case.version)
    with pytest.raises(cases.CaseError, match="无权"):
        cases.claim(case.id, person("陈静"), case.version)           # another department's officer
    with pytest.raises(cases.CaseError, match="无权"):
        cases.claim(case.id, person("赵敏"), case.version)           # a clerk is no reviewer
    assert db.session.get(Case, case.id).state == "accepted"


def test_a_decision_needs_an_opinion(ctx, clock):
    case = in_review_case()
    with pytest.raises(cases.CaseError, match="审查意见"):
        cases.decide(case.id, person("刘洋"), case.version, approve=True, opinion="  ")
    assert db.session.get(Case, case.id).state == "in_review"


def test_denial_completes_the_case_without_a_certificate(ctx, clock):
    case = in_review_case()
    case = cases.decide(case.id, person("刘洋"), case.version, approve=False, opinion="经营范围属于禁止项目")
    db.session.refresh(case)
    assert case.state == "completed" and case.decision == "deny"
    assert [e.to_state for e in case.events][-2:] == ["denied", "completed"]


def test_the_applicant_may_withdraw_only_before_acceptance(ctx, clock):
    case = submitted_case()
    withdrawn = cases.transition(case.id, "withdraw", person("张三"), case.version)
    assert withdrawn.state == "withdrawn"
    case = accepted_case()
    with pytest.raises(cases.StaleCase):
        cases.transition(case.id, "withdraw", person("张三"), case.version)


def test_every_transition_is_audited_and_the_chain_detects_tampering(ctx, clock):
    in_review_case()
    actions = db.session.execute(db.select(AuditEntry.action).order_by(AuditEntry.seq)).scalars().all()
    assert actions[-3:] == ["case.submit", "case.accept", "case.claim"]
    assert verify_chain() == (True, None)
    entry = db.session.execute(db.select(AuditEntry).where(AuditEntry.action == "case.accept")).scalar_one()
    entry.purpose = "edited afterwards"
    db.session.commit()
    assert verify_chain() == (False, entry.seq)


def test_events_name_their_actor(ctx, clock):
    case = accepted_case()
    event = db.session.execute(db.select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == "accept")
                               ).scalar_one()
    assert event.actor.name == "赵敏"
    assert pii.mask_name(event.actor.name) == "赵*"


def test_an_unreadable_material_is_refused_before_anything_is_written(ctx, clock):
    fake = pdf_file()
    fake = type(fake)("premises", "lease.pdf", b"this is just text pretending to be a PDF")
    from govservice.cases.uploads import UploadRefused
    with pytest.raises(UploadRefused, match="文件类型不符合要求"):
        cases.submit_application(person("张三"), catalog.current_item(ITEM), dict(ANSWERS), [fake], "k2")
    assert db.session.execute(db.select(db.func.count(Case.id))).scalar_one() == 0
