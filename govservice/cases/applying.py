"""Applying online (网上申请): who may apply for what, the form's pre-fill from the base
registries, held certificates offered in place of materials (免提交), drafts, and submission.

The rules live here; `views.py` only parses and renders. A pre-filled read-only value is taken
from the registry (or the login) again at submission, never from the browser; a registry that
does not answer leaves its fields to the applicant and is noted, never blocking the form.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from ..audit import services as audit
from ..catalog.models import ServiceItem
from ..catalog.services import certificate_type_name
from ..core import blobs, clock, pii
from ..core.extensions import db
from ..identity import enterprises
from ..identity.models import Enterprise, Person
from ..registry import services as registry
from . import foreign, uploads
from .held import certificates as certificate_domain
from .models import ApplicationDraft, Attachment, Case, CertificateMaterial
from .services import CaseError, already_submitted, submit_application

HELD_KEY = "_held_certificates"  # in form_data: material code -> certificate identifier (read at the window)


@dataclass
class FormContext:
    """Everything the application page needs besides the form itself."""

    item: ServiceItem
    enterprise: Enterprise | None = None  # acting for it (identity's "acting as")
    prefill: registry.Prefill = field(default_factory=registry.Prefill)
    held: dict = field(default_factory=dict)  # material code -> [Certificate]
    notices: list = field(default_factory=list)
    licences: list = field(default_factory=list)  # the licences held this item can act on ([licence])
    licence: object | None = None  # the one picked: the form is filled from it
    licence_values: dict = field(default_factory=dict)  # form field -> value from the licence picked


class LicenceError(CaseError):
    """The licence number given names no licence the applicant may act on; `field` is its form field."""

    def __init__(self, message, field: str):
        super().__init__(message)
        self.field = field


def _purpose(kind: str, item: ServiceItem) -> str:
    return f"{kind}：{item.name}（{item.code}）"


# --------------------------------------------------------------------------- who may apply


def check_may_apply(person: Person, item: ServiceItem, enterprise: Enterprise | None, level: int) -> None:
    """The audience, level-of-assurance and acting-for rules of applying; CaseError says why not.

    `enterprise` is whom the person acts for (identity's 办事身份 switch), `level` the level of
    assurance of this sign-in.
    """
    if level < item.level_of_assurance:
        raise CaseError(
            _(
                "该事项需要%(need)s级及以上实名认证，您当前为%(have)s级。请使用更高级别的认证方式重新登录后申请。",
                need=item.level_of_assurance,
                have=level,
            )
        )
    if enterprise is None:
        if item.audience == "enterprise":
            raise CaseError(_("该事项需要以企业身份申请：请在页面上方的“办事身份”中切换为要办理的企业。"))
        return
    if item.audience == "person":
        raise CaseError(_("该事项只能以个人身份申请：请在页面上方的“办事身份”中切换为“本人”。"))

    if not enterprise.is_active:
        raise CaseError(_("“%(name)s”已注销或被吊销，不能代表其办事。", name=enterprise.name))
    if enterprise.legal_representative_id == person.id:
        return
    grant = enterprises.active_grant(person, enterprise)
    if grant is None or not grant.covers(item.code):
        raise CaseError(_("您不是“%(name)s”的法定代表人，也没有办理该事项的经办授权。", name=enterprise.name))


# --------------------------------------------------------------------------- held certificates (免提交)


def held_certificates(person: Person, item: ServiceItem, enterprise: Enterprise | None) -> dict:
    """Material code -> the applicant's usable certificates of the type that replaces it: the
    person's own when applying as a person, the enterprise's when applying for one."""
    wanted = {m["replaceable_by"] for m in item.materials if m.get("replaceable_by")}
    if not wanted:
        return {}
    enterprise_id = enterprise.id if enterprise is not None else None
    usable = [
        c for c in certificate_domain().usable_certificates(person, wanted) if c.holder_enterprise_id == enterprise_id
    ]
    return {
        m["code"]: [c for c in usable if c.type_code == m["replaceable_by"]]
        for m in item.materials
        if m.get("replaceable_by")
    }


# --------------------------------------------------------------------------- the licence acted on (变更、延续、注销)


def _holds(certificate, person: Person, enterprise: Enterprise | None) -> bool:
    """Held by whom the person applies as: the enterprise acted for, or the person."""
    if enterprise is not None:
        return certificate.holder_enterprise_id == enterprise.id
    return certificate.holder_enterprise_id is None and certificate.holder_id == person.id


def held_licences(person: Person, item: ServiceItem, enterprise: Enterprise | None) -> list:
    """The valid licences of the item's `[licence]` type that the applicant (as a person or for
    the enterprise acted for) holds: the ones the form offers to fill from."""
    spec = item.definition.get("licence")
    if not spec:
        return []
    return [
        c for c in certificate_domain().usable_certificates(person, {spec["type"]}) if _holds(c, person, enterprise)
    ]


def licence_number(certificate) -> str:
    """A licence's number (证号): the value of its type's `number_field`."""
    ctype = current_app.extensions["certificate_types"].get(certificate.type_code)
    return str(certificate.data.get(ctype.number_field, "")) if ctype and ctype.number_field else ""


def licence_values(item: ServiceItem, certificate) -> dict:
    """Form field -> value, from the licence's content (the item's `[licence].fill`)."""
    data = certificate.data
    fill = item.definition["licence"].get("fill", {})
    return {target: data[source] for target, source in fill.items() if data.get(source) not in (None, "")}


def check_licence(person: Person, item: ServiceItem, enterprise: Enterprise | None, answers: dict):
    """The licence the answers name (the item's `[licence].field`), or LicenceError saying why
    it cannot be acted on: no such licence, someone else's, or no longer valid. The format is
    the form's check (the field's pattern or type); this is whether it exists and is theirs."""
    spec = item.definition.get("licence")
    number = str(answers.get(spec["field"], "") if spec else "").strip()
    if not number:
        return None
    type_name = certificate_type_name(spec["type"])
    found = certificate_domain().find_by_number(spec["type"], number)
    if not found:
        raise LicenceError(
            _(
                "未找到编号为 %(number)s 的%(type)s。请核对编号，或从“我的证照”中选择要办理的证照。",
                number=number,
                type=type_name,
            ),
            spec["field"],
        )
    mine = [c for c in found if _holds(c, person, enterprise)]
    if not mine:
        holder = _("“%(name)s”", name=enterprise.name) if enterprise is not None else _("您本人")
        raise LicenceError(
            _(
                "编号为 %(number)s 的%(type)s不在%(holder)s名下，不能据此申请。请核对编号；"
                "证照属于所代表的企业的，请先在“办事身份”中切换为该企业。",
                number=number,
                type=type_name,
                holder=holder,
            ),
            spec["field"],
        )
    current = mine[0]  # the newest version: a change re-issues the same number
    status = certificate_domain().status_of(current)
    if status != "valid":
        raise LicenceError(
            _(
                "编号为 %(number)s 的%(type)s%(status)s，不能据此申请。",
                number=number,
                type=type_name,
                status=certificate_domain().status_label(status),
            ),
            spec["field"],
        )
    return current


def _chosen_certificates(item: ServiceItem, held: dict, chosen: dict) -> dict:
    """Material code -> Certificate for the choices made; a certificate not offered is refused."""
    out = {}
    for code, identifier in chosen.items():
        if not identifier:
            continue
        certificate = next((c for c in held.get(code, []) if c.identifier == identifier), None)
        if certificate is None:
            material = item.material(code)
            raise CaseError(
                _(
                    "“%(name)s”所选的电子证照不可用（不存在、不属于申请人或已失效），请重新选择或上传文件。",
                    name=material["name"] if material else code,
                )
            )
        out[code] = certificate
    return out


# --------------------------------------------------------------------------- the form


def open_form(
    person: Person,
    item: ServiceItem,
    enterprise: Enterprise | None = None,
    *,
    level: int,
    record: bool = True,
    licence: str | None = None,
) -> FormContext:
    """Whether the person may apply, what the registries pre-fill, which certificates can be
    offered.

    With `record` the registry look-ups are audited and committed at once (showing the form);
    without, they stay in `context.prefill.lookups` for `submit` to audit with the case, or for
    `record_form_lookups` when the form goes back to the applicant.
    """
    check_may_apply(person, item, enterprise, level)
    context = FormContext(item=item, enterprise=enterprise)
    context.prefill = registry.prefill(
        item.fields,
        person,
        enterprise_uscc=enterprise.uscc if enterprise else None,
        purpose=_purpose("预填申请表", item),
    )
    context.notices.extend(str(n) for n in context.prefill.notices)
    context.held = held_certificates(person, item, enterprise)
    context.licences = held_licences(person, item, enterprise)
    if licence:  # the licence picked from 我的证照: only one the applicant holds, valid
        context.licence = next((c for c in context.licences if c.identifier == licence.strip().upper()), None)
        if context.licence is None:
            context.notices.append(_("所选证照不可用（不存在、不属于申请人或已失效），请重新选择。"))
        else:
            readonly = readonly_fields(item, context.prefill)
            context.licence_values = {
                k: v for k, v in licence_values(item, context.licence).items() if k not in readonly
            }
    if record:
        record_form_lookups(person, context)
    return context


def record_form_lookups(person: Person, context: FormContext) -> None:
    """Audit the form's registry look-ups (no case yet) and commit."""
    registry.record_lookups(context.prefill.lookups, actor=person, purpose=_purpose("预填申请表", context.item))
    context.prefill.lookups = []
    db.session.commit()


def readonly_fields(item: ServiceItem, prefill: registry.Prefill) -> set[str]:
    """Read-only only where the value really came from the login or a registry."""
    return {f["name"] for f in item.fields if f.get("readonly") and f["name"] in prefill.values}


# --------------------------------------------------------------------------- submission


def submit(
    person: Person,
    item: ServiceItem,
    answers: dict,
    files: list[uploads.Upload],
    chosen: dict,
    idempotency_key: str,
    *,
    enterprise: Enterprise | None = None,
    level: int,
    draft_id: int | None = None,
    context: FormContext | None = None,
) -> tuple[Case, bool]:
    """Submit an online application; the same idempotency key returns the case already made.

    `context` is the page's `open_form(..., record=False)`: its registry answers are used (and
    audited with the new case) instead of asking again.
    """
    if context is None or context.enterprise is not enterprise:  # open_form checks the person may apply
        context = open_form(person, item, enterprise, level=level, record=False)
    with already_submitted(person.id, idempotency_key) as existing:  # a form sent again: its case
        licence = check_licence(person, item, enterprise, answers)
        certificates = _chosen_certificates(item, context.held, chosen)
    if existing:
        return existing[0], False
    filled = licence_values(item, licence) if licence is not None else {}
    purpose = _purpose("提交申请", item)
    prefill = context.prefill
    data, sources = dict(answers), {}
    for spec in item.fields:
        name = spec["name"]
        if name in prefill.values and spec.get("readonly"):
            data[name] = prefill.values[name]
            sources[name] = prefill.sources[name]
        elif name in prefill.values and data.get(name) == prefill.values[name]:
            sources[name] = prefill.sources[name]
        elif name in filled and data.get(name) == filled[name]:
            sources[name] = "certificate"
        elif spec.get("prefill") and name in data:
            sources[name] = "applicant"
    draft = draft_for(person, draft_id) if draft_id else None
    uploaded = {u.material_code for u in files}
    kept = {
        code: meta
        for code, meta in (draft.files if draft else {}).items()
        if code not in uploaded and code not in certificates and item.material(code)
    }
    if certificates:
        data[HELD_KEY] = {code: c.identifier for code, c in certificates.items()}

    def record(case: Case) -> None:
        registry.record_lookups(prefill.lookups, actor=person, purpose=purpose, case_id=case.id)
        prefill.lookups = []
        for code, certificate in certificates.items():
            db.session.add(
                CertificateMaterial(
                    case_id=case.id,
                    material_code=code,
                    certificate_id=certificate.id,
                    certificate_identifier=certificate.identifier,
                    type_code=certificate.type_code,
                    chosen_at=clock.now(),
                )
            )
            audit.record(
                "case.certificate_material",
                actor=person,
                subject=f"certificate:{certificate.identifier}",
                case_id=case.id,
                purpose=f"免提交：{item.material(code)['name']}"[:255],
                detail={"material": code, "type": certificate.type_code},
            )
        for code, meta in kept.items():
            db.session.add(
                Attachment(
                    case_id=case.id,
                    material_code=code,
                    filename=meta["filename"],
                    content_type=meta["content_type"],
                    size=meta["size"],
                    sha256=meta["sha256"],
                    blob_key=meta["blob_key"],
                )
            )
        if draft is not None:
            db.session.delete(draft)

    # with nothing for `record` to write (the plain case), the case is numbered by its INSERT
    own_rows = record if prefill.lookups or certificates or kept or draft is not None else None
    return submit_application(
        person,
        item,
        data,
        files,
        idempotency_key,
        covered=set(certificates) | set(kept),
        before_commit=own_rows,
        field_sources=sources,
        enterprise_id=enterprise.id if enterprise is not None else None,
    )


# --------------------------------------------------------------------------- drafts (草稿)


def drafts_of(person: Person) -> list[ApplicationDraft]:
    return list(
        db.session.execute(
            select(ApplicationDraft)
            .where(ApplicationDraft.applicant_id == person.id)
            .order_by(ApplicationDraft.updated_at.desc(), ApplicationDraft.id.desc())
        ).scalars()
    )


def draft_for(person: Person, draft_id: int | None) -> ApplicationDraft | None:
    draft = db.session.get(ApplicationDraft, draft_id) if draft_id else None
    return draft if draft is not None and draft.applicant_id == person.id else None


def save_draft(
    person: Person,
    item: ServiceItem,
    raw: dict,
    files: list[uploads.Upload],
    chosen: dict,
    *,
    enterprise: Enterprise | None = None,
    level: int,
    draft_id: int | None = None,
) -> tuple[ApplicationDraft, list[uploads.UploadRefused]]:
    """Keep what was typed (as typed), the files that pass their checks and the certificates
    chosen; returns the draft and the uploads refused (each with its reason)."""
    check_may_apply(person, item, enterprise, level)
    presented, refused = _presented_credentials(item, files, person)
    held = held_certificates(person, item, enterprise)  # before the new draft joins the session (autoflush)
    draft = draft_for(person, draft_id)
    if draft_id and draft is None:
        raise CaseError(_("草稿不存在。"))
    if draft is None:
        draft = ApplicationDraft(
            applicant_id=person.id, item_code=item.code, created_at=clock.now(), files={}, certificates={}
        )
        db.session.add(draft)
    saved_files = dict(draft.files or {})
    store = blobs.store()
    for upload in files:
        material = item.material(upload.material_code)
        if material is None:
            continue
        if upload.material_code in presented:  # 互认: checked before the draft was in the session
            upload, content_type = presented[upload.material_code]
        elif foreign.credential_in(material, upload) is not None:
            continue  # refused above, with its reason
        else:
            try:
                content_type = uploads.check(material, upload, current_app.config["MAX_UPLOAD_MB"])
            except uploads.UploadRefused as exc:
                refused.append(exc)
                continue
        saved_files[upload.material_code] = {
            "filename": upload.filename[:255],
            "content_type": content_type,
            "size": len(upload.data),
            "sha256": hashlib.sha256(upload.data).hexdigest(),
            "blob_key": store.put(upload.data),
        }
    draft.item_id, draft.item_code = item.id, item.code
    draft.enterprise_uscc = enterprise.uscc if enterprise else None
    draft.data_enc = pii.encrypt_json(raw)
    draft.files = saved_files
    draft.certificates = {
        code: identifier
        for code, identifier in chosen.items()
        if identifier and any(c.identifier == identifier for c in held.get(code, []))
    }
    draft.updated_at = clock.now()
    db.session.commit()
    return draft, refused


def _presented_credentials(item: ServiceItem, files: list[uploads.Upload], person: Person):
    """互认 for a draft: each foreign certificate uploaded is checked as at submission (the check
    is audited and commits, so it runs before the draft joins the session). Returns the uploads to
    keep (material code -> (upload, content type)) and the refusals; other files are left alone."""
    presented, refused = {}, []
    for upload in files:
        material = item.material(upload.material_code)
        if material is None or (credential := foreign.credential_in(material, upload)) is None:
            continue
        try:
            presented[upload.material_code] = (
                foreign.check_presented(material, upload, credential, person),
                foreign.CONTENT_TYPE,
            )
        except uploads.UploadRefused as exc:
            refused.append(exc)
    return presented, refused


def discard_draft(person: Person, draft_id: int) -> None:
    draft = draft_for(person, draft_id)
    if draft is None:
        raise CaseError(_("草稿不存在。"))
    db.session.delete(draft)
    db.session.commit()
