"""Applications and the window's actions on them (submission, acceptance, supplements, refusal,
出件). Every state change goes through the transition engine (`engine.transition`)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..calendar import working
from ..catalog.models import ServiceItem
from ..core import blobs, clock, pii, rows
from ..core.extensions import db
from ..core.signals import case_result_issued
from ..identity.models import Department, Person
from . import foreign, uploads, workflow
from .engine import (
    CaseError,
    StaleCase,
    announce,
    by_idempotency_key,
    get_case,
    may_act,
    open_case,
    record,
    refuse_unless_allowed,
    stale,
    transition,
)
from .held import certificates as certificate_domain
from .models import Attachment, Case, CaseDocument, CaseStep, SupplementRequest

__all__ = ["CaseError", "StaleCase", "may_act", "transition"]  # the engine's, for the callers of services


def _attachments(case_id: int, stored) -> None:
    """The rows of the uploads whose blobs are stored (each as (upload, sniffed type, blob key)),
    in one INSERT (`core.rows`: nothing reads them back in this transaction)."""
    rows.insert_many(
        Attachment,
        [
            {
                "case_id": case_id,
                "material_code": upload.material_code,
                "filename": upload.filename[:255],
                "content_type": content_type,
                "size": len(upload.data),
                "sha256": hashlib.sha256(upload.data).hexdigest(),
                "blob_key": key,
                "uploaded_at": clock.now(),
            }
            for upload, content_type, key in stored
        ],
    )


def submit_application(
    applicant: Person,
    item: ServiceItem,
    form_data: dict,
    files: list[uploads.Upload],
    idempotency_key: str,
    *,
    channel: str = "online",
    clerk: Person | None = None,
    covered: Iterable[str] = (),
    before_commit: Callable[[Case], None] | None = None,
    **columns,
) -> tuple[Case, bool]:
    """Create a submitted case; the same idempotency key returns the case already made.

    Returns (case, created). Every upload is checked before anything is written. `covered`
    names materials supplied otherwise (a held certificate, a file kept from a draft);
    `before_commit(case)` adds the caller's rows to the same transaction (the front office:
    certificates offered as materials, audited registry look-ups, the draft's removal);
    `columns` are more of the case's own values (where each answer came from, the enterprise).
    """
    # No statement of its own looks the key up: the case's INSERT below finds the case the key
    # made, and the unique constraint on (applicant, key) refuses a copy racing the first; a form
    # sent again that is refused on its way there (its draft went with the first copy) finds its
    # case then.
    with already_submitted(applicant.id, idempotency_key) as existing:
        checked = _checked_uploads(applicant, item, files, covered, channel)
    if existing:
        return existing[0], False

    stored = uploads.store_each(checked)  # before the rows
    now = clock.now()
    applicant_id = applicant.id
    number = _case_number()
    try:  # the case as the session's own row, without a unit of work (core.rows), with its number
        case, created = rows.insert_new(
            Case,
            {
                "item_id": item.id,
                "applicant_id": applicant_id,
                "channel": channel,
                "idempotency_key": idempotency_key,
                "form_data_enc": pii.encrypt_json(form_data),
                "department_id": item.department_id,
                "created_at": now,
                "submitted_at": now,
                **open_case(),
                **columns,
            },
            ("applicant_id", "idempotency_key"),
            drawn=number,  # numbered by its INSERT (PostgreSQL: a sequence, which no one waits for)
        )
    except IntegrityError:  # a copy racing this one made the case meanwhile (SQLite: any copy before)
        db.session.rollback()
        existing = by_idempotency_key(applicant_id, idempotency_key)
        if existing is None:  # not the key: the day's numbers ran out (a million), never silently
            raise
        return existing, False
    if not created:  # the form was sent before (a double click, a retry): its case, nothing written
        return case, False
    rows.defer()  # the rows that follow go with the COMMIT, in one round trip (PostgreSQL)
    _attachments(case.id, stored)
    if before_commit is not None:
        before_commit(case)
    record(
        case,
        "submit",
        clerk or applicant,
        "draft",
        case.state,
        "窗口代为提交" if clerk else None,
        detail={"item": item.code, "version": item.version, "channel": channel},
    )
    # the session's objects (the applicant, the item, the case as written) are read again only if
    # someone asks: nothing of theirs changed but by the rows this commit writes
    rows.commit(expire=False)
    announce(case.id, "submit")
    return case, True


class already_submitted:  # noqa: N801 (a context manager, used like a function)
    """A refusal (CaseError, UploadRefused) of a submission whose key already made a case is not
    a refusal: the block's exception is swallowed and the case put in the list it yields."""

    def __init__(self, applicant_id: int, key: str):
        self.applicant_id, self.key, self.found = applicant_id, key, []

    def __enter__(self) -> list:
        return self.found

    def __exit__(self, kind, exc, tb) -> bool:
        if kind is None or not issubclass(kind, CaseError | uploads.UploadRefused):
            return False
        existing = by_idempotency_key(self.applicant_id, self.key)
        if existing is None:
            return False
        self.found.append(existing)
        return True


def _checked_uploads(
    applicant: Person, item: ServiceItem, files: list[uploads.Upload], covered: Iterable[str], channel: str
) -> list[tuple[uploads.Upload, str]]:
    """Every upload checked before anything is written (each with its sniffed type); online, every
    required material given."""
    materials = {m["code"]: m for m in item.materials}
    checked = []
    for upload in files:
        material = materials.get(upload.material_code)
        if material is None:
            raise CaseError(f"未知的材料：{upload.material_code}")
        if (credential := foreign.credential_in(material, upload)) is not None:  # 互认: another platform's
            checked.append((foreign.check_presented(material, upload, credential, applicant), foreign.CONTENT_TYPE))
            continue
        checked.append((upload, uploads.check(material, upload, current_app.config["MAX_UPLOAD_MB"])))
    given = {u.material_code for u in files} | set(covered)
    missing = [m["name"] for m in item.materials if m.get("required") and m["code"] not in given]
    if missing and channel == "online":
        raise CaseError("缺少必需的材料：" + "、".join(missing))
    return checked


#: PostgreSQL: the sequence case numbers are drawn from (migration 1010)
CASE_NUMBER_SEQUENCE = "case_number_seq"


def _case_number() -> rows.Drawn:
    """The case's number, drawn by its INSERT: region code, Beijing date and six digits, 20 in all
    (11010520261123000001). On PostgreSQL the six digits are the last six of one sequence's next
    value: a submission waits for no other (a counter row, gap-free, stayed locked by each until its
    COMMIT had been flushed, and the others queued behind it: bench/submit_http.py 285/s against
    317/s, alternated three times). Unique while a day has fewer than a million; increasing, but
    not from 000001 each day, and a submission that fails after its draw leaves a gap. SQLite
    keeps the gap-free counter of the day (core.counters), from 000001."""
    prefix = current_app.config["REGION_CODE"] + clock.today().strftime("%Y%m%d")
    return rows.Drawn("number", "case:" + prefix, prefix, 6, sequence=CASE_NUMBER_SEQUENCE)


# --- The window: acceptance, supplements, refusal, 出件 ----------------------------------------


def intake_at_window(
    clerk: Person,
    applicant: Person,
    item: ServiceItem,
    form_data: dict,
    files: list[uploads.Upload],
    idempotency_key: str,
    *,
    hall_id: int | None = None,
) -> tuple[Case, bool]:
    """窗口收件: the clerk files the application on behalf of the applicant identified at the
    counter (channel window); materials may still be missing, pre-review decides."""
    if clerk is None or not clerk.has_role("clerk"):
        raise CaseError(_("只有综合窗口工作人员可以代为收件。"))
    return submit_application(
        applicant, item, form_data, files, idempotency_key, channel="window", clerk=clerk, hall_id=hall_id
    )


def missing_materials(case: Case) -> list[str]:
    """Names of the required materials the case has neither a file nor a held certificate for."""
    given = {a.material_code for a in case.attachments} | set(offered_certificates(case))
    return [m["name"] for m in case.item.materials if m.get("required") and m["code"] not in given]


def offered_certificates(case: Case) -> dict[str, str]:
    """免提交: material code -> identifier of the held certificate offered in its place (recorded
    at submission), for the materials no file was given for since."""
    attached = {a.material_code for a in case.attachments}
    return {
        row.material_code: row.certificate_identifier
        for row in case.certificate_materials
        if row.material_code not in attached
    }


def _unusable_certificates(case: Case) -> str | None:
    """The check at acceptance of the certificates offered as materials, by the certificates
    domain (`check_held_materials`: valid, not revoked or expired, held by the applicant; each
    check is logged as a use of the certificate). None when all may be used."""
    offered = list(offered_certificates(case).values()) + foreign.credentials_of(case)  # 互认 ones again
    if not offered:
        return None
    certificates = certificate_domain()
    checks = certificates.check_held_materials(offered, case.applicant, case_id=case.id, case_number=case.number)
    return certificates.refusal_message(checks)


def accept(case_id: int, clerk: Person, expected_version: int) -> Case:
    """受理: the statutory clock starts and the workflow's first stage opens; the 受理通知书
    records the case number and the deadline. A case coming back from a supplement after
    acceptance returns to its departments, the clock having resumed at the answer."""
    case = get_case(case_id)
    if case.accepted_at is not None:
        return transition(
            case_id,
            "accept",
            clerk,
            expected_version,
            note="补正材料已核验，转回审查部门继续审查",
            effects=lambda c, locked: _release_stage(c, locked.version),
        )
    if case.state == "submitted" and (missing := missing_materials(case)):
        raise CaseError(_("材料不齐全，不能受理：缺少%(names)s。请出具一次性告知书。", names="、".join(missing)))
    if case.state == "submitted" and (unusable := _unusable_certificates(case)):
        raise CaseError(_("不能受理：%(reason)s。请出具一次性告知书，要求提交相应材料。", reason=unusable.rstrip("。")))
    item = case.item
    today = clock.today()
    deadline, provisional = working.add_working_days(today, item.time_limit_days)
    plan = workflow.stages(item.definition, item.department.code)
    departments = {
        d.code: d
        for d in db.session.execute(
            select(Department).where(Department.code.in_({c for s in plan for c in s.departments}))
        ).scalars()
    }

    def open_workflow(c: Case, locked) -> None:
        for stage in plan:
            for code in stage.departments:
                db.session.add(
                    CaseStep(
                        case_id=c.id,
                        stage=stage.number,
                        mode=stage.mode,
                        department_id=departments[code].id,
                        version=locked.version,
                        status=workflow.PENDING if stage.number == 1 else workflow.WAITING,
                    )
                )
        _document(
            c,
            "acceptance",
            clerk,
            {
                "accepted_on": today.isoformat(),
                "time_limit_days": item.time_limit_days,
                "deadline": deadline.isoformat(),
                "provisional": provisional,
                "departments": [departments[code].name for stage in plan for code in stage.departments],
                "joint": any(stage.mode == "joint" for stage in plan),
                "place": item.guide.get("place", ""),
                "contact": item.guide.get("contact", ""),
                "delivery": item.guide.get("result_delivery", ""),
            },
        )

    return transition(
        case_id,
        "accept",
        clerk,
        expected_version,
        accepted_at=clock.now(),
        deadline=deadline,
        deadline_provisional=provisional,
        current_stage=1,
        effects=open_workflow,
        note=f"承诺时限 {item.time_limit_days} 个工作日，截止 {deadline.isoformat()}"
        + ("（暂定）" if provisional else ""),
    )


def _release_stage(case: Case, version: int) -> None:
    """Back from a supplement: every undecided department of the stage claims the case afresh."""
    db.session.execute(
        update(CaseStep)
        .where(
            CaseStep.case_id == case.id,
            CaseStep.stage == case.current_stage,
            CaseStep.status.in_((workflow.IN_REVIEW, workflow.RETURNED)),
        )
        .values(status=workflow.PENDING, claimed_by_id=None, claimed_at=None, version=version)
        .execution_options(synchronize_session=False)
    )


def check_supplement_items(item: ServiceItem, items: list[dict]) -> list[dict]:
    """Every entry names a material of the item (or, for anything else, a name) and its reason."""
    materials = {m["code"]: m for m in item.materials}
    checked = []
    for entry in items:
        code = (entry.get("material") or "").strip()
        reason = (entry.get("reason") or "").strip()
        if code and code not in materials:
            raise CaseError(_("未知的材料：%(code)s", code=code))
        name = materials[code]["name"] if code else (entry.get("name") or "").strip()
        if not name:
            raise CaseError(_("请写明需要补正的内容。"))
        if not reason:
            raise CaseError(_("请写明“%(name)s”需要补正的原因。", name=name))
        checked.append({"material": code, "name": name[:200], "reason": reason[:500]})
    if not checked:
        raise CaseError(_("请至少列出一项需要补正的材料及原因。"))
    return checked


def supplement_due(due: date | None) -> date:
    """The deadline for supplying: the one given, or SUPPLEMENT_DAYS working days from today."""
    today = clock.today()
    if due is None:
        return working.add_working_days(today, current_app.config["SUPPLEMENT_DAYS"])[0]
    if due < today:
        raise CaseError(_("补正期限不能早于今天。"))
    return due


def supplement_rows(
    case: Case, actor: Person, origin: str, items: list[dict], due: date, note: str | None, step_id: int | None = None
) -> None:
    request = SupplementRequest(
        case_id=case.id,
        origin=origin,
        step_id=step_id,
        requested_by_id=actor.id,
        requested_at=clock.now(),
        due=due,
        items=items,
        note=note,
    )
    db.session.add(request)
    db.session.flush()
    _document(
        case,
        "supplement",
        actor,
        {"request": request.id, "origin": origin, "items": items, "due": due.isoformat(), "note": note or ""},
    )


def request_supplement(
    case_id: int,
    clerk: Person,
    expected_version: int,
    items: list[dict],
    *,
    due: date | None = None,
    note: str | None = None,
) -> Case:
    """一次性告知: everything missing or defective at once, each with its reason, and a deadline.
    After acceptance (a re-check of a supplement) the clock pauses again."""
    case = get_case(case_id)
    items = check_supplement_items(case.item, items)
    due = supplement_due(due)
    note = (note or "").strip() or None
    changes = {}
    if case.accepted_at is not None and case.paused_since is None:
        changes["paused_since"] = clock.today()
    return transition(
        case_id,
        "request_supplement",
        clerk,
        expected_version,
        note=f"一次性告知补正 {len(items)} 项，补正期限至 {due.isoformat()}",
        effects=lambda c, locked: supplement_rows(c, clerk, "window", items, due, note),
        **changes,
    )


def pending_supplement(case: Case) -> SupplementRequest | None:
    return next((r for r in reversed(case.supplement_requests) if r.pending), None)


def resubmit(
    case_id: int, actor: Person, expected_version: int, files: list[uploads.Upload], *, note: str | None = None
) -> Case:
    """补正: the applicant (online) or the clerk for them (at the window) supplies what was asked
    for, before the deadline; the case returns to the window, and a paused clock runs again
    with the deadline moved by the working days it stood still."""
    case = get_case(case_id)
    request = pending_supplement(case)
    if request is None or case.state != "supplement_requested":
        raise stale(case, "resubmit")
    refuse_unless_allowed(actor, "resubmit", case)
    today = clock.today()
    if today > request.due:
        raise CaseError(
            _("补正期限已于 %(due)s 届满，不能再提交补正材料。请联系综合窗口。", due=request.due.isoformat())
        )
    asked = {i["material"] for i in request.items if i["material"]}
    given = {u.material_code for u in files}
    missing = [i["name"] for i in request.items if i["material"] and i["material"] not in given]
    if missing:
        raise CaseError(_("请上传需要补正的材料：%(names)s。", names="、".join(missing)))
    note = (note or "").strip() or None
    if not note and any(not i["material"] for i in request.items):
        raise CaseError(_("请在补正说明中答复告知书所列的其他事项。"))
    materials = {m["code"]: m for m in case.item.materials}
    checked = uploads.check_each(
        {code: m for code, m in materials.items() if code in asked},
        files,
        lambda upload: CaseError(
            _(
                "“%(name)s”不在补正告知的材料中。",
                name=materials.get(upload.material_code, {}).get("name", upload.material_code),
            )
        ),
    )
    stored = uploads.store_each(checked)
    changes: dict = {}
    if case.paused_since is not None:
        calendar = working.WorkingCalendar()
        paused = max(0, calendar.working_days_between(case.paused_since, today))
        deadline, provisional = calendar.add_working_days(case.deadline, paused)
        changes = {
            "paused_since": None,
            "paused_days": case.paused_days + paused,
            "deadline": deadline,
            "deadline_provisional": case.deadline_provisional or provisional,
        }

    def answer(c: Case, locked) -> None:
        _attachments(c.id, stored)
        request.answered_at, request.answered_by_id, request.answer_note = clock.now(), actor.id, note

    text = f"补正材料 {len(files)} 份" + ("（窗口代收）" if actor.id != case.applicant_id else "")
    if "deadline" in changes:
        text += (
            f"；计时恢复，暂停 {changes['paused_days'] - case.paused_days} 个工作日，截止日顺延至 "
            f"{changes['deadline'].isoformat()}"
        )
    return transition(case_id, "resubmit", actor, expected_version, note=text, effects=answer, **changes)


def not_accept(case_id: int, clerk: Person, expected_version: int, *, reason: str, basis: str) -> Case:
    """不予受理: only with the reason and its legal basis, printed in the 不予受理决定书."""
    reason, basis = (reason or "").strip(), (basis or "").strip()
    if not reason:
        raise CaseError(_("请填写不予受理的理由。"))
    if not basis:
        raise CaseError(_("请填写不予受理的法律依据。"))
    case = get_case(case_id)
    if case.version != expected_version:  # changed since the page was shown (another clerk acted)
        raise stale(case, "not_accept")
    if case.accepted_at is not None:
        raise CaseError(_("该办件已经受理，不能再作出不予受理决定。"))
    if case.state == "supplement_requested":
        request = pending_supplement(case)
        if request is not None and clock.today() <= request.due:
            raise CaseError(_("补正期限（%(due)s）尚未届满，请等待申请人补正。", due=request.due.isoformat()))
    return transition(
        case_id,
        "not_accept",
        clerk,
        expected_version,
        note=reason,
        effects=lambda c, locked: _document(c, "refusal", clerk, {"reason": reason, "basis": basis}),
    )


def hand_over(case_id: int, clerk: Person, expected_version: int) -> Case:
    """出件: the window records handing the result over to the applicant."""
    case = get_case(case_id)
    if case.handed_over_at is not None:
        raise CaseError(
            _(
                "该办件的结果已于 %(at)s 出件。",
                at=case.handed_over_at.astimezone(clock.BEIJING).strftime("%Y-%m-%d %H:%M"),
            )
        )
    return transition(
        case_id,
        "hand_over",
        clerk,
        expected_version,
        handed_over_at=clock.now(),
        handed_over_by_id=getattr(clerk, "id", None),
        note="办理结果已在综合窗口交付申请人",
    )


def init_app(app) -> None:
    case_result_issued.connect(_on_result_issued, sender=app, weak=False)


def _on_result_issued(app, case_id: int, note: str, **_) -> None:
    """办结 once the certificates domain has issued the approved case's result."""
    try:
        complete(case_id, None, note)
    except CaseError:
        # a concurrent issuer of the same case completed it first: that is the outcome wanted
        db.session.rollback()
        if db.session.get(Case, case_id).state != "completed":
            raise


def complete(case_id: int, actor: Person | None, note: str) -> Case:
    """办结. A case that ran under the statutory clock keeps its working days and whether it was on time."""
    case = get_case(case_id)
    now = clock.now()
    timing = {}
    if case.accepted_at is not None and case.deadline is not None:
        done = now.astimezone(clock.BEIJING).date()
        used = working.WorkingCalendar().working_days_between(case.accepted_at.astimezone(clock.BEIJING).date(), done)
        timing = {"working_days": used - case.paused_days, "on_time": done <= case.deadline}
    return transition(case_id, "complete", actor, case.version, note=note, completed_at=now, **timing)


def _document(case: Case, kind: str, actor: Person | None, content: dict) -> CaseDocument:
    document = CaseDocument(
        case_id=case.id,
        kind=kind,
        issued_at=clock.now().replace(microsecond=0),
        issued_by_id=getattr(actor, "id", None),
        content=content,
    )
    db.session.add(document)
    return document


def document_for(case: Case, document_id: int) -> CaseDocument:
    document = next((d for d in case.documents if d.id == document_id), None)
    if document is None:
        raise CaseError(_("文书不存在。"))
    return document


def attachment_for(case: Case, attachment_id: int) -> tuple[Attachment, bytes]:
    attachment = next((a for a in case.attachments if a.id == attachment_id), None)
    if attachment is None:
        raise CaseError("材料不存在。")
    return attachment, blobs.store().get(attachment.blob_key)


def find_case(number: str) -> Case | None:
    return db.session.execute(select(Case).where(Case.number == number)).scalar_one_or_none()
