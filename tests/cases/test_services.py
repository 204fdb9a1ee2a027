"""Case transitions at the service level: rights, states, versions, events and audit."""

from datetime import date

import pytest

from govservice.audit.models import AuditEntry
from govservice.audit.services import seal, verify
from govservice.cases import services as cases
from govservice.cases.models import Case, CaseEvent
from govservice.catalog import services as catalog
from govservice.core import pii
from govservice.core.extensions import db
from govservice.review import services as review

from ..factories import ANSWERS, ITEM, accepted_case, in_review_case, pdf_file, person, submitted_case


def _after(number: str) -> str:
    """The case number drawn next after `number` (the six digits after the date, plus one)."""
    return f"{number[:-6]}{(int(number[-6:]) + 1) % 1_000_000:06d}"


def test_submission_makes_a_numbered_case_with_its_event_audit_and_material(ctx, clock):
    case = submitted_case()
    # region, Beijing date, six digits: from 000001 each day on SQLite (the day's counter), the
    # last six of a sequence's value on PostgreSQL
    assert case.number.startswith("11010520261123") and len(case.number) == 20 and case.number.isdigit()
    if db.engine.dialect.name == "sqlite":
        assert case.number == "11010520261123000001"
    assert case.state == "submitted" and case.channel == "online" and case.version == 1
    assert [e.action for e in case.events] == ["submit"]
    assert case.attachments[0].content_type == "application/pdf"
    assert db.session.execute(db.select(AuditEntry.action).where(AuditEntry.case_id == case.id)).scalars().all() == [
        "case.submit"
    ]
    second = submitted_case()  # on PostgreSQL the number is drawn into the row in one statement
    assert second.number == _after(case.number)
    db.session.expire_all()
    assert db.session.get(Case, second.id).number == second.number
    assert db.session.execute(db.select(AuditEntry.subject).where(AuditEntry.case_id == second.id)).scalar_one() == (
        f"case:{second.number}"
    )


def test_answers_are_encrypted_at_rest(ctx, clock):
    case = submitted_case()
    stored = db.session.execute(db.select(Case.form_data_enc)).scalar_one()
    assert "110105198802150035" not in stored and "张三" not in stored
    assert case.form_data["operator_id_number"] == "110105198802150035"


def test_the_same_idempotency_key_makes_one_case_and_draws_no_number(ctx, clock):
    first = submitted_case(key="same-key")
    again, created = cases.submit_application(
        person("张三"), catalog.current_item(ITEM), dict(ANSWERS), [pdf_file()], "same-key"
    )
    assert not created and (again.id, again.number) == (first.id, first.number)
    assert again.state == "submitted" and [e.action for e in again.events] == ["submit"]  # read when asked for
    assert db.session.execute(db.select(db.func.count(Case.id))).scalar_one() == 1
    assert submitted_case().number == _after(first.number)  # the copy sent again took no number


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
        cases.accept(case.id, person("张三"), case.version)  # the applicant cannot accept
    case = cases.accept(case.id, person("赵敏"), case.version)
    with pytest.raises(cases.CaseError, match="无权"):
        review.claim(case.id, person("陈静"), case.version)  # another department's officer
    with pytest.raises(cases.CaseError, match="无权"):
        review.claim(case.id, person("赵敏"), case.version)  # a clerk is no reviewer
    assert db.session.get(Case, case.id).state == "accepted"


def test_a_decision_needs_an_opinion(ctx, clock):
    case = in_review_case()
    with pytest.raises(cases.CaseError, match="审查意见"):
        review.decide(case.id, person("刘洋"), case.version, approve=True, opinion="  ")
    assert db.session.get(Case, case.id).state == "in_review"


def test_denial_completes_the_case_without_a_certificate(ctx, clock):
    case = in_review_case()
    case = review.decide(case.id, person("刘洋"), case.version, approve=False, opinion="经营范围属于禁止项目")
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


def test_every_transition_is_audited_and_the_log_detects_tampering(ctx, clock):
    in_review_case()
    actions = db.session.execute(db.select(AuditEntry.action).order_by(AuditEntry.id)).scalars().all()
    assert actions[-3:] == ["case.submit", "case.accept", "case.claim"]
    seal()
    assert verify().ok
    entry = db.session.execute(db.select(AuditEntry).where(AuditEntry.action == "case.accept")).scalar_one()
    entry.purpose = "edited afterwards"
    db.session.commit()
    report = verify()
    assert not report.ok and report.problem.entry_id == entry.id


def test_events_name_their_actor(ctx, clock):
    case = accepted_case()
    event = db.session.execute(
        db.select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == "accept")
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


# --- issue 5: the window's outcomes, the departments' workflow, the paused clock -----------------

from datetime import UTC, datetime  # noqa: E402

from govservice.cases.models import CaseDocument  # noqa: E402

from ..factories import JOINT, SEQUENTIAL, accepted_case_of, staff, workflow_item  # noqa: E402

MISSING = [{"material": "premises", "reason": "租赁合同复印件不清晰"}]


def _events(case_id):
    return [e.action for e in db.session.get(Case, case_id).events]


def _at(clock, y, m, d, hour=10):
    """Move the pinned clock to a Beijing date (10:00)."""
    clock.at = datetime(y, m, d, hour - 8, 0, tzinfo=UTC)


def test_acceptance_opens_the_workflow_and_issues_the_acceptance_notice(ctx, clock):
    case = accepted_case_of(workflow_item(workflow=SEQUENTIAL))
    assert [(s.stage, s.department.code, s.status) for s in case.steps] == [
        (1, "scjgj", "pending"),
        (2, "wsjkw", "waiting"),
    ]
    assert case.current_stage == 1
    notice = db.session.execute(db.select(CaseDocument)).scalar_one()
    assert notice.kind == "acceptance" and notice.content["deadline"] == "2026-11-26"
    assert notice.content["departments"] == ["市场监督管理局", "卫生健康委员会"]


def test_a_case_with_a_required_material_missing_cannot_be_accepted(ctx, clock):
    case, _ = cases.intake_at_window(
        person("赵敏"), person("张三"), catalog.current_item(ITEM), dict(ANSWERS), [], "window-1"
    )
    assert case.channel == "window" and case.events[0].actor.name == "赵敏"
    with pytest.raises(cases.CaseError, match="材料不齐全，不能受理：缺少经营场所使用证明"):
        cases.accept(case.id, person("赵敏"), case.version)
    assert db.session.get(Case, case.id).state == "submitted" and _events(case.id) == ["submit"]


def test_only_a_clerk_takes_in_at_the_window(ctx, clock):
    with pytest.raises(cases.CaseError, match="只有综合窗口工作人员"):
        cases.intake_at_window(person("刘洋"), person("张三"), catalog.current_item(ITEM), dict(ANSWERS), [], "w")
    assert db.session.execute(db.select(db.func.count(Case.id))).scalar_one() == 0


def test_the_window_asks_once_for_everything_missing_with_a_deadline(ctx, clock):
    case = submitted_case()
    case = cases.request_supplement(
        case.id,
        person("赵敏"),
        case.version,
        MISSING + [{"material": "", "name": "经营范围表述", "reason": "请按《经营范围规范表述目录》填写"}],
        note="请一次补齐",
    )
    assert case.state == "supplement_requested" and case.paused_since is None  # no clock before acceptance
    request = cases.pending_supplement(case)
    assert request.due == date(2026, 12, 7)  # 10 working days from Monday 23 November
    assert [i["name"] for i in request.items] == ["经营场所使用证明", "经营范围表述"]
    notice = case.documents[-1]
    assert notice.kind == "supplement" and notice.content["items"] == request.items
    assert _events(case.id) == ["submit", "request_supplement"]


@pytest.mark.parametrize(
    "items, due, message",
    [
        ([], None, "请至少列出一项需要补正的材料及原因"),
        ([{"material": "premises", "reason": "  "}], None, "请写明“经营场所使用证明”需要补正的原因"),
        ([{"material": "nonsense", "reason": "x"}], None, "未知的材料：nonsense"),
        ([{"material": "", "name": "", "reason": "x"}], None, "请写明需要补正的内容"),
        (MISSING, date(2026, 11, 20), "补正期限不能早于今天"),
    ],
)
def test_a_supplement_request_without_what_or_why_changes_nothing(ctx, clock, items, due, message):
    case = submitted_case()
    with pytest.raises(cases.CaseError, match=message):
        cases.request_supplement(case.id, person("赵敏"), case.version, items, due=due)
    case = db.session.get(Case, case.id)
    assert case.state == "submitted" and case.version == 1 and not case.supplement_requests and not case.documents


def test_the_applicant_answers_with_the_listed_materials_and_the_case_returns_to_the_window(ctx, clock):
    case = submitted_case()
    case = cases.request_supplement(case.id, person("赵敏"), case.version, MISSING)
    with pytest.raises(cases.CaseError, match="请上传需要补正的材料：经营场所使用证明"):
        cases.resubmit(case.id, person("张三"), case.version, [])
    with pytest.raises(cases.CaseError, match="无权"):
        cases.resubmit(case.id, person("李娜"), case.version, [pdf_file()])
    case = cases.resubmit(case.id, person("张三"), case.version, [pdf_file()], note="已换清晰的复印件")
    assert case.state == "submitted" and len(case.attachments) == 2
    request = case.supplement_requests[0]
    assert request.answered_at is not None and request.answer_note == "已换清晰的复印件"
    case = cases.accept(case.id, person("赵敏"), case.version)
    assert case.state == "accepted" and case.deadline == date(2026, 11, 26)


def test_a_supplement_answered_after_its_deadline_is_refused_and_changes_nothing(ctx, clock):
    case = submitted_case()
    case = cases.request_supplement(case.id, person("赵敏"), case.version, MISSING, due=date(2026, 11, 25))
    _at(clock, 2026, 11, 26)
    with pytest.raises(cases.CaseError, match="补正期限已于 2026-11-25 届满"):
        cases.resubmit(case.id, person("张三"), case.version, [pdf_file()])
    case = db.session.get(Case, case.id)
    assert case.state == "supplement_requested" and len(case.attachments) == 1
    assert case.supplement_requests[0].answered_at is None


def test_the_clerk_may_receive_the_supplement_at_the_window(ctx, clock):
    case = submitted_case()
    case = cases.request_supplement(case.id, person("赵敏"), case.version, MISSING)
    case = cases.resubmit(case.id, person("赵敏"), case.version, [pdf_file()])
    assert case.state == "submitted" and case.events[-1].note.startswith("补正材料 1 份（窗口代收）")


@pytest.mark.parametrize(
    "reason, basis, message",
    [
        ("", "《行政许可法》第三十二条", "请填写不予受理的理由"),
        ("申请事项不属于本机关职权范围", " ", "请填写不予受理的法律依据"),
    ],
)
def test_a_refusal_needs_a_reason_and_its_legal_basis(ctx, clock, reason, basis, message):
    case = submitted_case()
    with pytest.raises(cases.CaseError, match=message):
        cases.not_accept(case.id, person("赵敏"), case.version, reason=reason, basis=basis)
    assert db.session.get(Case, case.id).state == "submitted" and not db.session.get(Case, case.id).documents


def test_the_refusal_is_recorded_with_its_letter(ctx, clock):
    case = submitted_case()
    case = cases.not_accept(
        case.id,
        person("赵敏"),
        case.version,
        reason="申请事项依法不需要取得行政许可",
        basis="《中华人民共和国行政许可法》第三十二条第一款第（一）项",
    )
    assert case.state == "not_accepted" and case.events[-1].note == "申请事项依法不需要取得行政许可"
    assert case.documents[-1].content == {
        "reason": "申请事项依法不需要取得行政许可",
        "basis": "《中华人民共和国行政许可法》第三十二条第一款第（一）项",
    }


def test_an_accepted_case_cannot_be_refused_and_a_running_supplement_not_cut_short(ctx, clock):
    clerk = person("赵敏")
    case = accepted_case()
    with pytest.raises(cases.CaseError, match="已经受理"):
        cases.not_accept(case.id, clerk, case.version, reason="x", basis="y")
    case = submitted_case()
    case = cases.request_supplement(case.id, clerk, case.version, MISSING, due=date(2026, 11, 25))
    with pytest.raises(cases.CaseError, match="补正期限（2026-11-25）尚未届满"):
        cases.not_accept(case.id, clerk, case.version, reason="逾期未补正", basis="y")
    _at(clock, 2026, 11, 26)
    case = cases.not_accept(case.id, clerk, case.version, reason="逾期未补正", basis="《行政许可法》第三十二条")
    assert case.state == "not_accepted"


def test_sequential_steps_pass_from_department_to_department(ctx, clock):
    case = accepted_case_of(workflow_item(workflow=SEQUENTIAL))
    with pytest.raises(cases.CaseError, match="无权"):
        review.claim(case.id, person("陈静"), case.version)  # not the health commission's turn yet
    case = review.claim(case.id, person("刘洋"), case.version)
    case = review.decide(case.id, person("刘洋"), case.version, approve=True, opinion="登记事项符合规定")
    assert case.state == "in_review" and case.current_stage == 2
    assert [s.status for s in case.steps] == ["approved", "pending"]
    assert case.events[-1].note == "市场监督管理局：登记事项符合规定（转入下一环节：卫生健康委员会）"
    case = review.claim(case.id, person("陈静"), case.version)
    case = review.decide(case.id, person("陈静"), case.version, approve=True, opinion="卫生条件符合要求")
    db.session.refresh(case)
    assert case.state == "completed" and case.decision == "approve"
    assert _events(case.id) == ["submit", "accept", "claim", "step_approve", "claim", "approve", "complete"]


def test_a_sequential_denial_ends_the_workflow(ctx, clock):
    case = accepted_case_of(workflow_item(workflow=SEQUENTIAL))
    case = review.claim(case.id, person("刘洋"), case.version)
    case = review.decide(case.id, person("刘洋"), case.version, approve=False, opinion="名称与已登记字号相同")
    db.session.refresh(case)
    assert case.state == "completed" and case.decision == "deny"
    assert [s.status for s in case.steps] == ["denied", "skipped"]


def test_in_a_joint_step_every_department_decides_and_one_denial_denies_with_all_reasons(ctx, clock):
    item = workflow_item(workflow=[{"mode": "joint", "departments": ["scjgj", "wsjkw", "gaj"]}])
    case = accepted_case_of(item)
    officers = {"scjgj": person("刘洋"), "wsjkw": person("陈静"), "gaj": staff("李娜", "officer", "gaj")}
    page = case.version  # each department works from the page it opened
    for officer in officers.values():
        review.claim(case.id, officer, page)
    case = db.session.get(Case, case.id)
    assert case.state == "in_review" and {s.status for s in case.steps} == {"in_review"}
    page = case.version
    review.decide(case.id, officers["scjgj"], page, approve=False, opinion="经营场所属于禁止经营区域")
    case = db.session.get(Case, case.id)
    assert case.state == "in_review"  # the others have not decided yet
    assert case.events[-1].action == "step_deny" and "等待卫生健康委员会、公安分局审查" in case.events[-1].note
    review.decide(case.id, officers["wsjkw"], page, approve=True, opinion="卫生条件符合要求")
    case = review.decide(case.id, officers["gaj"], page, approve=False, opinion="消防通道不符合要求")
    db.session.refresh(case)
    assert case.state == "completed" and case.decision == "deny"
    denial = next(e for e in case.events if e.action == "deny")
    assert denial.note == "市场监督管理局：经营场所属于禁止经营区域；公安分局：消防通道不符合要求"
    assert _events(case.id).count("deny") == 1


def test_a_joint_step_approved_by_every_department_approves_the_case_once(ctx, clock):
    case = accepted_case_of(workflow_item(workflow=JOINT))
    page = case.version
    review.claim(case.id, person("刘洋"), page)
    review.claim(case.id, person("陈静"), page)
    page = db.session.get(Case, case.id).version
    review.decide(case.id, person("陈静"), page, approve=True, opinion="同意")
    case = review.decide(case.id, person("刘洋"), page, approve=True, opinion="同意登记")
    db.session.refresh(case)
    assert case.state == "completed" and case.decision == "approve"
    assert _events(case.id).count("approve") == 1
    approval = next(e for e in case.events if e.action == "approve")
    assert approval.note == "市场监督管理局：同意登记；卫生健康委员会：同意"


def test_a_department_page_is_stale_once_its_own_step_changed(ctx, clock):
    case = accepted_case_of(workflow_item(workflow=JOINT))
    page = case.version
    review.claim(case.id, person("刘洋"), page)
    second = staff("李娜", "officer", "scjgj")
    with pytest.raises(cases.StaleCase, match="无法认领审查"):
        review.claim(case.id, second, page)  # the same step, claimed meanwhile
    with pytest.raises(cases.CaseError, match="只有认领人可以作出审查结论"):
        review.decide(case.id, second, db.session.get(Case, case.id).version, approve=True, opinion="同意")
    with pytest.raises(cases.StaleCase):
        review.decide(case.id, person("刘洋"), page - 1, approve=True, opinion="同意")  # older than the step


def test_an_opinion_is_recorded_only_by_a_department_that_claimed(ctx, clock):
    case = accepted_case()
    with pytest.raises(cases.CaseError, match="请先认领"):
        review.record_opinion(case.id, person("刘洋"), "材料待核")
    case = review.claim(case.id, person("刘洋"), case.version)
    with pytest.raises(cases.CaseError, match="请填写审查意见"):
        review.record_opinion(case.id, person("刘洋"), " ")
    opinion = review.record_opinion(case.id, person("刘洋"), "已电话核实经营场所")
    assert opinion.kind == "note" and db.session.get(Case, case.id).version == case.version  # no state change


def test_a_department_sends_the_case_back_and_the_clock_pauses_until_the_answer(ctx, clock):
    case = accepted_case()  # Monday 23 Nov, 3 working days: Thursday 26 Nov
    _at(clock, 2026, 11, 24)
    case = review.claim(case.id, person("刘洋"), case.version)
    case = review.return_for_supplement(case.id, person("刘洋"), case.version, MISSING)
    assert case.state == "supplement_requested" and case.paused_since == date(2026, 11, 24)
    assert case.steps[0].status == "returned" and cases.pending_supplement(case).origin == "department"
    _at(clock, 2026, 11, 30)
    case = cases.resubmit(case.id, person("张三"), case.version, [pdf_file()])
    # paused Wed 25 .. Mon 30 November: 4 working days; the deadline moves from 26 Nov to 2 Dec
    assert case.paused_days == 4 and case.paused_since is None and case.deadline == date(2026, 12, 2)
    case = cases.accept(case.id, person("赵敏"), case.version)
    assert case.state == "accepted" and case.deadline == date(2026, 12, 2)
    assert case.steps[0].status == "pending" and case.steps[0].claimed_by_id is None
    case = review.claim(case.id, person("刘洋"), case.version)
    assert case.state == "in_review"


def test_the_paused_clock_across_the_national_day_holiday(ctx, clock):
    _at(clock, 2026, 9, 28)
    case = accepted_case()  # 29, 30 Sep, 8 Oct (1-7 Oct off): 8 October
    assert case.deadline == date(2026, 10, 8)
    _at(clock, 2026, 9, 29)
    case = review.claim(case.id, person("刘洋"), case.version)
    case = review.return_for_supplement(case.id, person("刘洋"), case.version, MISSING)
    _at(clock, 2026, 10, 9)
    case = cases.resubmit(case.id, person("张三"), case.version, [pdf_file()])
    # paused: 30 Sep, 8 Oct, 9 Oct (the holiday is no working day anyway); 9, 10 (make-up Saturday), 12 Oct
    assert case.paused_days == 3 and case.deadline == date(2026, 10, 12)


def test_a_joint_step_keeps_the_decisions_made_before_a_supplement(ctx, clock):
    case = accepted_case_of(workflow_item(workflow=JOINT))
    page = case.version
    review.claim(case.id, person("刘洋"), page)
    review.claim(case.id, person("陈静"), page)
    page = db.session.get(Case, case.id).version
    review.decide(case.id, person("刘洋"), page, approve=True, opinion="同意")
    case = review.return_for_supplement(case.id, person("陈静"), page, MISSING)
    with pytest.raises(cases.StaleCase):  # no decisions while the supplement is pending
        review.decide(case.id, person("陈静"), case.version, approve=True, opinion="同意")
    case = cases.resubmit(case.id, person("张三"), case.version, [pdf_file()])
    case = cases.accept(case.id, person("赵敏"), case.version)
    assert [(s.department.code, s.status) for s in case.steps] == [("scjgj", "approved"), ("wsjkw", "pending")]
    case = review.claim(case.id, person("陈静"), case.version)
    case = review.decide(case.id, person("陈静"), case.version, approve=True, opinion="补正后符合要求")
    db.session.refresh(case)
    assert case.state == "completed" and case.decision == "approve"


def test_the_result_is_handed_over_once_at_the_window(ctx, clock):
    case = in_review_case()
    with pytest.raises(cases.StaleCase):
        cases.hand_over(case.id, person("赵敏"), case.version)  # nothing to hand over yet
    case = review.decide(case.id, person("刘洋"), case.version, approve=False, opinion="不符合条件")
    db.session.refresh(case)
    with pytest.raises(cases.CaseError, match="无权"):
        cases.hand_over(case.id, person("张三"), case.version)
    case = cases.hand_over(case.id, person("赵敏"), case.version)
    assert case.state == "completed" and case.handed_over_by.name == "赵敏"
    assert case.events[-1].action == "hand_over" and case.events[-1].label == "出件"
    with pytest.raises(cases.CaseError, match="已于 .* 出件"):
        cases.hand_over(case.id, person("赵敏"), case.version)


def test_every_new_transition_is_audited_in_the_log(ctx, clock):
    case = submitted_case()
    case = cases.request_supplement(case.id, person("赵敏"), case.version, MISSING)
    case = cases.resubmit(case.id, person("张三"), case.version, [pdf_file()])
    case = cases.accept(case.id, person("赵敏"), case.version)
    case = review.claim(case.id, person("刘洋"), case.version)
    review.record_opinion(case.id, person("刘洋"), "核实无误")
    actions = (
        db.session.execute(db.select(AuditEntry.action).where(AuditEntry.case_id == case.id).order_by(AuditEntry.id))
        .scalars()
        .all()
    )
    assert actions == [
        "case.submit",
        "case.request_supplement",
        "case.resubmit",
        "case.accept",
        "case.claim",
        "case.opinion",
    ]
    seal()
    assert verify().ok


def test_a_held_certificate_offered_as_a_material_is_checked_at_acceptance(ctx, clock):
    """免提交: the certificate stands in for the file until it is no longer valid; then the window
    asks for the file and the file is what counts."""
    from govservice.cases.models import CertificateMaterial
    from govservice.certificates import lifecycle
    from govservice.certificates import services as certificates

    from ..factories import DATA

    base = catalog.current_item(ITEM)
    item = workflow_item(
        "test-held", [{"mode": "sequential", "departments": ["scjgj"]}], name="个体工商户变更登记（测试）"
    )
    item.definition = dict(item.definition, materials=[dict(base.materials[0], replaceable_by="yyzz")])
    db.session.commit()
    licence = certificates.issue("yyzz", person("张三"), DATA["yyzz"])
    case, _ = cases.intake_at_window(person("赵敏"), person("张三"), item, dict(ANSWERS), [], "held")
    db.session.add(
        CertificateMaterial(
            case_id=case.id,
            material_code="premises",
            certificate_id=licence.id,
            certificate_identifier=licence.identifier,
            type_code="yyzz",
        )
    )
    db.session.commit()
    assert cases.missing_materials(case) == []
    lifecycle.revoke(licence.id, person("刘洋"), "以欺骗手段取得登记")
    with pytest.raises(cases.CaseError, match="不能受理：营业执照.*已吊销.*请出具一次性告知书"):
        cases.accept(case.id, person("赵敏"), case.version)
    assert db.session.get(Case, case.id).state == "submitted"
    case = cases.request_supplement(case.id, person("赵敏"), case.version, MISSING)
    case = cases.resubmit(case.id, person("张三"), case.version, [pdf_file()])
    assert cases.offered_certificates(case) == {}  # the file now stands for the material
    assert cases.accept(case.id, person("赵敏"), case.version).state == "accepted"
