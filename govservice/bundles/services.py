"""一件事一次办: applying for a bundle with one form, accepting it once at the window, filing a
member that waits for another's certificate, and the one progress view.

Each member becomes an ordinary case of its item (its own department, workflow, clock and
result), made through `cases.submit_application` and moved only by the transition engine. A member
that waits (`[[depends]]`) is filed when the case it waits for completes with its certificate,
which it receives as a held material (免提交), and is accepted at once on the acceptance the
window gave the bundle. A member refused or denied leaves the others as they are; what waited for
it is cancelled; the applicant is told (notice through `people_alerted`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from types import SimpleNamespace

from flask import Flask, current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import access
from ..audit import services as audit
from ..cases import services as cases
from ..cases import uploads
from ..cases.models import Case, CertificateMaterial
from ..catalog import services as catalog
from ..certificates.models import Certificate
from ..core import blobs, clock, pdfkit, pii
from ..core.extensions import db
from ..core.signals import case_transitioned, people_alerted
from ..identity.models import Person
from ..window import services as window
from .definitions import BundleDefinition, read_bundles
from .models import BundleApplication, BundleFile, BundleMember

log = logging.getLogger(__name__)
BUNDLES_DIR = catalog.ITEMS_DIR / "bundles"
STATUS_LABELS = {"created": "", "waiting": _l("等待前置事项办结"), "cancelled": _l("已取消"), "failed": _l("未能办理")}


class BundleError(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def init_app(app: Flask) -> None:
    case_transitioned.connect(_on_case_transitioned, sender=app, weak=False)

    @app.context_processor
    def _bundle_of_case():
        return {"bundle_of_case": bundle_of_case}


# --- Definitions and the one form ---------------------------------------------------------------


def definitions() -> dict[str, BundleDefinition]:
    items = {i.code: i for i in catalog.list_items()}
    return read_bundles(BUNDLES_DIR, items)


def definition(code: str) -> BundleDefinition | None:
    return definitions().get(code)


def items_of(bundle: BundleDefinition) -> list:
    return [catalog.current_item(code) for code in bundle.members]


def form_spec(bundle: BundleDefinition):
    """The one form: every member's fields once (same name, or answered by an alias), less those
    a dependency fills from a certificate; every material once (same code), less those a
    dependency supplies. Shaped like an item, for `cases.forms.application_form`."""
    fields, materials, seen_fields, seen_materials = [], [], set(), set()
    for item in items_of(bundle):
        dependency = bundle.dependency_of(item.code)
        filled = set(dependency.fill) if dependency else set()
        for spec in item.fields:
            name = spec["name"]
            if name in filled or name in bundle.aliases or name in seen_fields:
                continue
            seen_fields.add(name)
            fields.append(spec)
        for material in item.materials:
            if (dependency and material["code"] == dependency.material) or material["code"] in seen_materials:
                continue
            seen_materials.add(material["code"])
            materials.append(material)
    shape = hashlib.sha256(json.dumps([fields, materials], ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    return SimpleNamespace(
        id=f"bundle:{bundle.code}",
        version=shape[:12],
        digest=shape,  # what the form class is kept by (cases.forms), as an item's own digest
        code=bundle.code,
        name=bundle.name,
        fields=fields,
        materials=materials,
    )


def level_needed(bundle: BundleDefinition) -> int:
    return max(item.level_of_assurance for item in items_of(bundle))


def prefill(applicant: Person, spec) -> dict:
    """The login's own values for the fields that name them (the members' registries are asked
    again when each case is filed, as for any application)."""
    login = {"person.name": applicant.name, "person.id_number": applicant.id_number, "person.phone": applicant.phone}
    return {f["name"]: login[f["prefill"]] for f in spec.fields if f.get("prefill") in login and login[f["prefill"]]}


def _answers_for(item, bundle: BundleDefinition, answers: dict) -> dict:
    out = {}
    for spec in item.fields:
        value = answers.get(bundle.aliases.get(spec["name"], spec["name"]))
        if value not in (None, ""):
            out[spec["name"]] = value
    return out


# --- Applying -----------------------------------------------------------------------------------


@dataclass
class Submitted:
    bundle: BundleApplication
    created: bool
    failures: list  # (item name, reason) of members that could not be filed


def submit(applicant: Person, code: str, answers: dict, files: list[uploads.Upload], key: str) -> Submitted:
    """One form for the whole bundle: the bundle is kept first, then each member that waits for
    nothing is filed as a case; one that fails is marked with its reason and the others go on."""
    bundle_def = definition(code)
    if bundle_def is None:
        raise BundleError(_("没有这个“一件事”。"))
    existing = db.session.execute(
        select(BundleApplication).where(
            BundleApplication.applicant_id == applicant.id, BundleApplication.idempotency_key == key
        )
    ).scalar_one_or_none()
    if existing is not None:
        return Submitted(existing, False, [])
    spec = form_spec(bundle_def)
    materials = {m["code"]: m for m in spec.materials}
    checked = [
        upload
        for upload, _type in uploads.check_each(
            materials, files, lambda upload: BundleError(_("未知的材料：%(code)s", code=upload.material_code))
        )
    ]
    given = {u.material_code for u in checked}
    missing = [m["name"] for m in spec.materials if m.get("required") and m["code"] not in given]
    if missing:
        raise BundleError(_("缺少必需的材料：%(names)s", names="、".join(missing)))
    for spec_field in spec.fields:  # values the login vouches for are the login's
        if spec_field.get("readonly") and spec_field.get("prefill", "").startswith("person."):
            answers[spec_field["name"]] = prefill(applicant, spec).get(
                spec_field["name"], answers.get(spec_field["name"])
            )
    store = blobs.store()
    bundle = BundleApplication(
        code=code,
        name=bundle_def.name,
        applicant_id=applicant.id,
        idempotency_key=key,
        form_data_enc=pii.encrypt_json(answers),
        submitted_at=clock.now(),
    )
    for upload in checked:
        bundle.files.append(
            BundleFile(
                material_code=upload.material_code, filename=upload.filename[:255], blob_key=store.put(upload.data)
            )
        )
    for position, item_code in enumerate(bundle_def.members):
        dependency = bundle_def.dependency_of(item_code)
        bundle.members.append(
            BundleMember(
                position=position,
                item_code=item_code,
                item_name=catalog.current_item(item_code).name,
                waits_for=dependency.on if dependency else None,
                status="waiting",
            )
        )
    db.session.add(bundle)
    db.session.flush()
    audit.record("bundle.submit", actor=applicant, subject=f"bundle:{bundle.id}", detail={"code": code})
    db.session.commit()
    failures = []
    for member in bundle.members:
        if member.waits_for is None:
            reason = _file(bundle, bundle_def, member, answers, checked)
            if reason:
                failures.append((member.item_name, reason))
    return Submitted(bundle, True, failures)


def _file(
    bundle: BundleApplication,
    bundle_def: BundleDefinition,
    member: BundleMember,
    answers: dict,
    given: list[uploads.Upload],
    certificate=None,
) -> str | None:
    """File the member's case (its own transaction); the reason when it could not be filed."""
    item = catalog.current_item(member.item_code)
    data = _answers_for(item, bundle_def, answers)
    dependency = bundle_def.dependency_of(item.code)
    covered = []
    if certificate is not None:
        data.update({target: certificate.data.get(source, "") for target, source in dependency.fill.items()})
        covered.append(dependency.material)
    codes = {m["code"] for m in item.materials}
    files = [u for u in given if u.material_code in codes]

    def link(case: Case) -> None:
        db.session.execute(
            db.update(BundleMember)
            .where(BundleMember.id == member.id)
            .values(case_id=case.id, status="created", note=None)
        )
        if certificate is not None:
            db.session.add(
                CertificateMaterial(
                    case_id=case.id,
                    material_code=dependency.material,
                    certificate_id=certificate.id,
                    certificate_identifier=certificate.identifier,
                    type_code=certificate.type_code,
                )
            )

    try:
        case, _created = cases.submit_application(
            bundle.applicant,
            item,
            data,
            files,
            f"{bundle.idempotency_key[:48]}:{member.position}",
            covered=covered,
            before_commit=link,
        )
    except (cases.CaseError, uploads.UploadRefused) as exc:
        db.session.rollback()
        reason = getattr(exc, "message", None) or str(exc)
        _mark(member.id, "failed", reason)
        _tell_applicant(bundle, "bundle.member_failed", member.item_name, reason)
        db.session.commit()
        return reason
    db.session.refresh(member)
    if certificate is not None and bundle.accepted_by is not None and case.state == "submitted":
        cases.accept(case.id, bundle.accepted_by, case.version)  # the bundle was accepted once, at the window
    return None


def _mark(member_id: int, status: str, note: str | None) -> None:
    db.session.execute(db.update(BundleMember).where(BundleMember.id == member_id).values(status=status, note=note))


def _tell_applicant(bundle: BundleApplication, kind: str, item_name: str, reason: str) -> None:
    people_alerted.send(
        current_app._get_current_object(),
        recipients=[(bundle.applicant_id, "bundles.detail", {"bundle_id": bundle.id})],
        kind=kind,
        params={"bundle": bundle.name, "item": item_name, "reason": reason[:300]},
    )


# --- Reactions to the members' cases -------------------------------------------------------------


def _on_case_transitioned(app, case_id, action, **_kw):
    if action not in ("complete", "not_accept", "withdraw"):
        return
    member = db.session.execute(select(BundleMember).where(BundleMember.case_id == case_id)).scalar_one_or_none()
    if member is None:
        return
    try:
        _member_settled(member, action)
    except Exception:  # the member's own transition is committed; a failure here is only logged
        log.exception("bundle %s: reacting to case %s (%s) failed", member.bundle_id, case_id, action)
        db.session.rollback()


def _member_settled(member: BundleMember, action: str) -> None:
    bundle = member.bundle
    bundle_def = definition(bundle.code)
    waiting = [m for m in bundle.members if m.waits_for == member.item_code and m.status == "waiting"]
    case = member.case
    approved = action == "complete" and case.decision == "approve"
    if not approved:
        reason = _(
            "“%(item)s”未获办理（%(state)s）",
            item=member.item_name,
            state=_("不予受理") if action == "not_accept" else _("已撤回") if action == "withdraw" else _("不予批准"),
        )
        _mark(member.id, "failed", reason)
        for dependent in waiting:
            _mark(dependent.id, "cancelled", reason)
        _tell_applicant(bundle, "bundle.member_failed", member.item_name, reason)
        audit.record(
            "bundle.member_failed",
            actor=None,
            subject=f"bundle:{bundle.id}",
            case_id=case.id,
            detail={"item": member.item_code, "cancelled": [d.item_code for d in waiting]},
        )
        db.session.commit()
        return
    if not waiting:
        return

    certificate = (
        db.session.execute(select(Certificate).where(Certificate.case_id == case.id).order_by(Certificate.id))
        .scalars()
        .first()
    )
    given = [uploads.Upload(f.material_code, f.filename, blobs.store().get(f.blob_key)) for f in bundle.files]
    for dependent in waiting:
        if certificate is None:
            _mark(dependent.id, "failed", _("前置事项未发放证照"))
            db.session.commit()
            continue
        _file(bundle, bundle_def, dependent, bundle.form_data, given, certificate=certificate)


# --- The window: accepted once -------------------------------------------------------------------


def accept(clerk: Person, bundle_id: int, *, acknowledged: bool) -> list[Case]:
    """受理 the whole bundle at once: every filed member must be complete first (nothing is
    accepted otherwise); each member's case is then accepted with its own clock, through the
    window's acceptance (credit check included)."""
    bundle = get(bundle_id)
    if not access.may_accept_bundle(clerk, bundle):
        raise BundleError(_("只有综合窗口工作人员可以受理“一件事”。"))
    if bundle.accepted_at is not None:
        raise BundleError(
            _(
                "该“一件事”已于 %(at)s 受理。",
                at=bundle.accepted_at.astimezone(clock.BEIJING).strftime("%Y-%m-%d %H:%M"),
            )
        )
    pending = [m.case for m in bundle.members if m.case is not None and m.case.state == "submitted"]
    if not pending:
        raise BundleError(_("没有待受理的办件。"))
    problems = [f"{c.item.name}：{'、'.join(missing)}" for c in pending if (missing := cases.missing_materials(c))]
    if problems:
        raise BundleError(_("材料不齐全，不能受理：%(p)s。请对相应办件出具一次性告知书。", p="；".join(problems)))
    accepted = []
    for case in pending:
        try:
            accepted.append(window.accept(clerk, case, case.version, acknowledged=acknowledged))
        except (cases.CaseError, window.WindowError) as exc:
            if not accepted:
                raise BundleError(exc.message) from None
            raise BundleError(
                _(
                    "已受理 %(n)s 件；“%(item)s”未受理：%(reason)s",
                    n=len(accepted),
                    item=case.item.name,
                    reason=exc.message,
                )
            ) from None
    bundle.accepted_at, bundle.accepted_by_id = clock.now(), clerk.id
    audit.record(
        "bundle.accept", actor=clerk, subject=f"bundle:{bundle.id}", detail={"cases": [c.number for c in accepted]}
    )
    db.session.commit()
    return accepted


# --- Reading -------------------------------------------------------------------------------------


def get(bundle_id: int) -> BundleApplication:
    bundle = db.session.get(BundleApplication, bundle_id)
    if bundle is None:
        raise BundleError(_("“一件事”申请不存在。"))
    return bundle


def bundle_of_case(case_id: int) -> BundleApplication | None:
    member = db.session.execute(select(BundleMember).where(BundleMember.case_id == case_id)).scalar_one_or_none()
    return member.bundle if member else None


def of_applicant(applicant: Person) -> list[BundleApplication]:
    return list(
        db.session.execute(
            select(BundleApplication)
            .where(BundleApplication.applicant_id == applicant.id)
            .order_by(BundleApplication.id.desc())
            .limit(100)
        ).scalars()
    )


# --- Demo ----------------------------------------------------------------------------------------

DEMO_KEY = "demo-bundle"


def load_demo() -> list[str]:
    """吴芳's 开办个体餐饮店, accepted once by 赵敏: the business registration waits for 刘洋
    (市场监督管理局), the food licence for the business licence. Running it twice changes nothing."""
    from ..identity.devidp.identities import IDENTITIES
    from ..identity.services import person_for

    people = {i["name"]: person_for(i["id_number"], i["name"]) for i in IDENTITIES if i["name"] in ("吴芳", "赵敏")}
    applicant, clerk = people["吴芳"], people["赵敏"]
    db.session.commit()
    answers = {
        "operator_name": applicant.name,
        "operator_id_number": applicant.id_number,
        "business_name": "北京市朝阳区吴芳米线店",
        "composition": "个人经营",
        "address": "北京市朝阳区示例路22号",
        "scope": "小餐饮",
        "capital": "4",
        "phone": "13800000012",
        "business_format": "餐饮服务经营者",
        "business_items": "热食类食品制售",
        "food_safety_officer": "吴芳",
        "floor_area": "30",
    }
    files = [uploads.Upload(code, f"{code}.pdf", pdfkit.sample_pdf()) for code in ("premises", "layout", "rules")]
    result = submit(applicant, "kbgtcyd", answers, files, DEMO_KEY)
    if not result.created:
        return []
    accept(clerk, result.bundle.id, acknowledged=True)
    return [f"bundle: {result.bundle.name} of {applicant.name}, accepted at the window"]
