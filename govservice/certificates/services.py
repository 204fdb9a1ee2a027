"""Issuing, holding and verifying electronic certificates (电子证照), and held certificates used
as application materials (免提交). The issuer's decisions after issuance (suspend, resume,
revoke, change) are in ``lifecycle.py``; the holder's consent grants in ``consent.py``.

Two QR codes exist for a certificate, both signed (ES256) under the published keys
(``/.well-known/jwks.json``):

* the one printed on the PDF cannot carry the PDF's own hash (the QR is part of the PDF, so
  the hash would have to be known before the document it is printed in); it is a short signed
  reference (``shortref.py``: type, issuer, number, version; ~105 characters) that a phone
  reads from paper, leading to ``/r/<reference>``;
* the one the wallet shows (``Certificate.token``, a compact JWS) carries the certificate's
  claims (identifier, type, issuer, masked holder, issue and expiry times) and the SHA-256 of
  the signed PDF, so a verifier holding the file can check it is the very document issued.

What verification answers, in order of precedence: ``revoked`` and ``superseded`` (the
issuer's final decisions), ``expired`` (judged at the moment of asking), ``suspended`` (the
issuer's temporary decision), else ``valid``. A token that does not verify under the published
keys, or names no certificate issued here, is ``forged``; an identifier that is well formed
but unknown is ``not_found``. Answering a verifier (the public page, the partner API) is in
``verification.py``: every answer about an existing certificate is logged and shown to the
holder; forgeries are counted.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask import Flask, current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..access import certificate_relation
from ..access.reads import CERTIFICATE_FINDER
from ..audit import services as audit
from ..cases.models import Case
from ..catalog import services as catalog
from ..core import blobs, clock, pdfkit, pii
from ..core.config import ROOT
from ..core.extensions import db
from ..core.signals import case_result_issued, certificate_changed
from ..identity.models import AgentGrant, Enterprise, Person
from ..security.text import clean_text
from . import issuance, serials, tokens
from .issuance import TRANSIENT
from .models import Certificate, Verification

# the signing material and the QR pages have their own modules (issuance reads them without
# this one); named here too, for the callers that know them as services.*
from .pki import pdf_signer, pdf_timestamper, pdf_trust_roots, signing_material  # noqa: F401
from .types import CertificateType, load_types
from .urls import reference_url, verify_url  # noqa: F401

if TYPE_CHECKING:
    from . import sm2tokens

log = logging.getLogger(__name__)
LICENSES_DIR = ROOT / "licenses"

STATUS_LABELS = {
    "valid": _l("有效"),
    "revoked": _l("已吊销"),
    "suspended": _l("已暂停"),
    "expired": _l("已过期"),
    "superseded": _l("已被新证替代"),
    "forged": _l("无效（伪造或被篡改）"),
    "not_found": _l("未找到该证照"),
    "refused": _l("已拒绝"),
}


class CertificateError(Exception):
    """A refusal shown to the person as it is (Chinese); nothing was changed."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


# --------------------------------------------------------------------------- set-up


def init_app(app: Flask) -> None:
    app.extensions["certificate_types"] = load_types(LICENSES_DIR)
    app.extensions["case_certificates"] = sys.modules[__name__]  # cases.held.CaseCertificates: this module
    app.extensions[CERTIFICATE_FINDER] = find  # access.certificate_for looks certificates up through it
    if app.config["CJK_FONT"]:  # a configured font is checked at start; it is parsed on first use
        pdfkit.check_font_file(app.config["CJK_FONT"])
    keys_dir = f"{app.config['INSTANCE_DIR']}/keys"
    store = tokens.TokenKeyStore(f"{keys_dir}/token_keys")
    store.ensure_key()
    suite = app.config.get("CRYPTO_SUITE") or "default"
    if suite not in ("default", "sm"):
        raise RuntimeError(f"CRYPTO_SUITE must be default or sm, not {suite!r}")
    if suite == "sm":  # SM2/SM3 tokens; ES256 ones issued before keep verifying
        from .sm2tokens import SM2KeyStore, SuiteKeyStore

        store = SuiteKeyStore(store, SM2KeyStore(f"{keys_dir}/sm2_keys"))
        store.ensure_key()
    app.extensions["token_keys"] = store
    key, cert = app.config.get("SIGNING_KEY_FILE"), app.config.get("SIGNING_CERT_FILE")
    if key or cert:  # a configured key is checked at start; pyHanko loads it on first use (see pdf_signer)
        if not (key and cert):
            raise RuntimeError("SIGNING_KEY_FILE and SIGNING_CERT_FILE must be set together")
        for path in (key, cert):
            if not os.path.isfile(path):
                raise FileNotFoundError(f"signing material not found: {path}")
    from .. import trust

    trust.init_app(app)  # other platforms' certificates (互认), checked with the held ones at acceptance


def certificate_type(code: str) -> CertificateType:
    return current_app.extensions["certificate_types"][code]


def key_store() -> tokens.TokenKeyStore | sm2tokens.SuiteKeyStore:
    return current_app.extensions["token_keys"]


# --------------------------------------------------------------------------- issuance


def _individual_business_credit_code(serial: int) -> str:
    """A unified social credit code for an individual business (登记管理部门 9, 类别 2).

    The organisation-code part is the serial as eight digits with its GB 11714 check
    character; digits only, because the credit code's alphabet leaves out I, O, S, V and Z.
    """
    from stdnum.cn import uscc

    body = f"{serial % 10**8:08d}"
    check = 11 - sum(int(c) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2))) % 11
    number = "92" + current_app.config["REGION_CODE"] + body + {10: "X", 11: "0"}.get(check, str(check))
    return number + uscc.calc_check_digit(number)


def _licence_number(type_code: str, serial: int, year: int) -> str:
    """The number printed on a licence, in the form its issuer uses (`[number]` in its type file)."""
    return certificate_type(type_code).licence_number(current_app.config["REGION_CODE"], serial, year)


def _certificate_data(case) -> dict:
    """What the certificate says, from the case; generated numbers are drawn here (a sequence
    on PostgreSQL: nothing waits, see ``serials``)."""
    mapping = case.item.definition.get("certificate", {})
    form = case.form_data
    decided_on = case.decided_at.astimezone(clock.BEIJING).date().isoformat()
    data = {}
    for target, source in mapping.items():
        if source.startswith("const:"):
            data[target] = source[len("const:") :]
        elif source.startswith("form."):
            data[target] = form.get(source[len("form.") :], "")
        elif source == "case.decided_on":
            data[target] = decided_on
        elif source == "generated.credit_code":
            region = current_app.config["REGION_CODE"]
            data[target] = _individual_business_credit_code(serials.next_serial("credit_code", "uscc:" + region))
        elif source == "generated.licence_number":
            type_code = case.item.result_type
            number = serials.next_serial("licence", f"licence:{type_code}")
            data[target] = _licence_number(type_code, number, case.decided_at.year)
    return data


def _first_certificate(case_id: int) -> Certificate | None:
    return db.session.execute(
        select(Certificate).where(Certificate.case_id == case_id, Certificate.supersedes_id.is_(None))
    ).scalar_one_or_none()


DECISION_LETTER = "jds"  # licenses/jds.toml


def _letter_data(case) -> dict:
    """The decision letter (决定书) of an approved case whose item issues no licence."""
    item = case.item
    opinion = next((e.note for e in reversed(case.events) if e.action == "approve" and e.note), "")
    enterprise = db.session.get(Enterprise, case.enterprise_id) if case.enterprise_id else None
    return {
        "document_title": item.definition.get("result_name") or f"{item.name}决定书",
        "case_number": case.number or str(case.id),
        "item_name": item.name,
        "decision": "准予办理",
        "applicant": enterprise.name if enterprise is not None else case.applicant.name,
        "opinion": opinion[:500],
        "decided_on": case.decided_at.astimezone(clock.BEIJING).date().isoformat(),
    }


def issue_for_case(case_id: int) -> Certificate | None:
    """Issue the certificate an approved case's item names; the case is then completed (by the
    cases domain, on `case_result_issued`).

    Idempotent, also when run twice at once (a retried or duplicated task): the database's
    unique index on a case's first certificate lets one issuer commit; the other gets that
    certificate back. A case that already has its certificate is only completed.
    """
    case = db.session.get(Case, case_id)
    if case is None or case.state != "approved":
        return None
    existing = _first_certificate(case_id)
    if existing is None and case.item.result_type:
        enterprise = None
        if certificate_type(case.item.result_type).holder_kind == "enterprise" and case.enterprise_id:
            enterprise = db.session.get(Enterprise, case.enterprise_id)
        try:
            existing = issue(
                case.item.result_type, case.applicant, _certificate_data(case), case_id=case.id, enterprise=enterprise
            )
        except issuance.AlreadyIssued as already:
            existing = already.certificate
    elif existing is None and DECISION_LETTER in current_app.extensions["certificate_types"]:
        try:  # every decision leaves a document: the item's letter, from its lead department
            existing = issue(
                DECISION_LETTER,
                case.applicant,
                _letter_data(case),
                case_id=case.id,
                issuer_code=case.item.department.code,
            )
        except issuance.AlreadyIssued as already:
            existing = already.certificate
    what = "决定书" if existing is not None and existing.type_code == DECISION_LETTER else "电子证照"
    note = f"{what}已签发：{existing.identifier}" if existing else "办结"
    case_result_issued.send(current_app._get_current_object(), case_id=case_id, note=note)  # cases completes it
    return existing


#: an approved case this long without its certificate is taken up again by `retry_pending`
RETRY_AFTER_SECONDS = 60


def retry_pending(limit: int = 100) -> list[int]:
    """Issue the certificates of approved cases whose issuance failed (a TSA that did not
    answer, the database briefly gone): the ids of the cases completed now. Those failing
    again stay approved for the next run. The Celery beat runs this every minute; embedded,
    ``flask govservice certificates retry``."""
    before = clock.now() - timedelta(seconds=RETRY_AFTER_SECONDS)
    pending = list(
        db.session.execute(
            select(Case.id).where(Case.state == "approved", Case.decided_at <= before).order_by(Case.id).limit(limit)
        ).scalars()
    )
    done = []
    for case_id in pending:
        try:
            issue_for_case(case_id)
        except TRANSIENT as exc:
            db.session.rollback()
            log.warning("the certificate of case %s is still not issued (%s)", case_id, exc)
            continue
        done.append(case_id)
    return done


def checked_data(ctype: CertificateType, data: dict) -> dict:
    """The type's fields from ``data`` as trimmed text without invisible characters; unknown or
    missing required fields refused."""
    unknown = sorted(set(data) - set(ctype.field_names))
    if unknown:
        raise CertificateError(_("%(type)s没有这些项目：%(names)s", type=ctype.name, names="、".join(unknown)))
    clean = {}
    for field in ctype.fields:
        value = clean_text(str(data.get(field.name) or ""))  # no bidi override or zero-width on a signed name
        if len(value) > 500:
            raise CertificateError(_("“%(label)s”不能超过500字。", label=field.label), field.name)
        if field.required and not value:
            raise CertificateError(_("请填写“%(label)s”。", label=field.label), field.name)
        if value or field.name in data:
            clean[field.name] = value
    return clean


def issue(
    type_code: str,
    holder: Person,
    data: dict,
    *,
    case_id: int | None = None,
    issued_at: datetime | None = None,
    actor: Person | None = None,
    enterprise: Enterprise | None = None,
    issuer_code: str | None = None,
) -> Certificate:
    """Render, sign (PAdES) and store one certificate, with its QR tokens; commits.

    ``holder`` is the person who applied; ``enterprise``, for a business's certificate, the
    enterprise that holds it (its representative and agents then see it in their wallets).

    The serial is drawn and the session's transaction ended (committing whatever the session
    held) before rendering; the PDF is rendered, signed and stored with no transaction open;
    the last transaction only inserts the rows. Raises ``issuance.AlreadyIssued`` when
    ``case_id`` already has its first certificate.
    """
    ctype = certificate_type(type_code)
    if enterprise is not None and ctype.holder_kind != "enterprise":
        raise CertificateError(_("%(type)s的持证主体是个人，不能颁发给企业。", type=ctype.name))
    issuer = catalog.department(issuer_code or ctype.issuer_department)  # a letter: the item's department
    if issuer is None:
        raise CertificateError(
            _("发证部门 %(code)s 未登记，请先同步服务目录。", code=issuer_code or ctype.issuer_department)
        )
    clean = checked_data(ctype, data)
    issued_at = (issued_at or clock.now()).replace(microsecond=0)
    serial = serials.next_serial("certificate", f"certificate:{ctype.licence_type_code}:{issuer.uscc}")
    draft = issuance.draft(
        ctype,
        holder,
        issuer,
        clean,
        serial=serial,
        version=1,
        issued_at=issued_at,
        expires_at=ctype.validity.expires(issued_at),
        case_id=case_id,
        actor=actor,
        enterprise=enterprise,
    )
    issuance.leave_transaction()
    signed = issuance.sign(draft)
    try:
        certificate = issuance.add(signed)
        issuance.commit_keeping(certificate)
    except IntegrityError:
        db.session.rollback()
        existing = _first_certificate(case_id) if case_id is not None else None
        if existing is None:
            raise
        raise issuance.AlreadyIssued(existing) from None
    certificate_changed.send(current_app._get_current_object(), certificate_id=certificate.id, action="issue")
    return certificate


# --------------------------------------------------------------------------- holding


def pdf_bytes(certificate: Certificate) -> bytes:
    return blobs.store().get(certificate.pdf_blob_key)


def enterprises_acted_for(person: Person) -> set[int]:
    """The enterprises this person may act for now: as legal representative, or as an agent
    whose authorisation (经办人授权) is live."""
    now = clock.now()
    represented = select(Enterprise.id).where(Enterprise.legal_representative_id == person.id)
    agent_of = select(AgentGrant.enterprise_id).where(
        AgentGrant.agent_id == person.id,
        AgentGrant.revoked_at.is_(None),
        AgentGrant.valid_from <= now,
        AgentGrant.valid_until > now,
    )
    return set(db.session.execute(represented).scalars()) | set(db.session.execute(agent_of).scalars())


def wallet(holder: Person) -> list[Certificate]:
    """The person's own certificates and those of the enterprises they act for, newest first."""
    own = (Certificate.holder_enterprise_id.is_(None)) & (Certificate.holder_id == holder.id)
    enterprises = enterprises_acted_for(holder)
    condition = own | Certificate.holder_enterprise_id.in_(enterprises) if enterprises else own
    return list(
        db.session.execute(
            select(Certificate).where(condition).order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        ).scalars()
    )


def may_hold(person: Person, certificate: Certificate) -> bool:
    """May this person act as the certificate's holder (see it whole, share it, offer it)?"""
    relation = certificate_relation(person, certificate)
    return relation is not None and not relation.staff


def held_certificate(identifier: str, person: Person) -> Certificate:
    certificate = find(identifier)
    if certificate is None or not may_hold(person, certificate):
        raise CertificateError(_("证照不存在，或不是您持有的证照。"))
    return certificate


def for_case(case) -> list[Certificate]:
    return list(db.session.execute(select(Certificate).where(Certificate.case_id == case.id)).scalars())


def find(identifier: str) -> Certificate | None:
    if not isinstance(identifier, str) or len(identifier) > 128:
        return None
    return db.session.execute(
        select(Certificate).where(Certificate.identifier == identifier.strip().upper())
    ).scalar_one_or_none()


def find_by_number(type_code: str, number: str) -> list[Certificate]:
    """The certificates of a type whose number (证号, the type's `number_field`) is `number`,
    newest first: every version and status (a change re-issues the same number)."""
    if not isinstance(number, str) or not number.strip() or len(number) > 128:
        return []
    return list(
        db.session.execute(
            select(Certificate)
            .where(Certificate.type_code == type_code, Certificate.number_hash == pii.lookup_hash(number))
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        ).scalars()
    )


def status_of(certificate: Certificate) -> str:
    if certificate.status in ("revoked", "superseded"):
        return certificate.status
    if certificate.expires_at and certificate.expires_at <= clock.now():
        return "expired"
    return certificate.status


def status_label(status: str) -> str:
    return _status_label(str(get_locale()), status)


@functools.cache
def _status_label(_locale: str, status: str) -> str:
    """Translated once per language and status (the verify API names it in every answer)."""
    return str(STATUS_LABELS.get(status, status))


def qr_withheld(certificate: Certificate, status: str | None = None) -> str | None:
    """Why the wallet does not offer this certificate's QR for showing (出示), or None when it may:
    a revoked, suspended, superseded or expired certificate would only be shown as invalid."""
    status = status or status_of(certificate)
    if status == "valid":
        return None
    if status == "expired":
        day = certificate.expires_at.astimezone(clock.BEIJING).strftime("%Y-%m-%d")
        return _("本证照已于%(day)s过期，核验二维码已停用，不能出示用于核验。如需继续使用，请申请延续或换发。", day=day)
    if status == "revoked":
        return _("本证照已被发证机关吊销，核验二维码已停用，不能出示用于核验。")
    if status == "superseded":
        return _("本证照已被新版本替代，核验二维码已停用，请出示新版本证照的二维码。")
    if status == "suspended":
        return _("本证照已暂停使用，暂停期间核验二维码停用，不能出示用于核验。")
    return _("本证照当前不是有效状态，核验二维码已停用。")


# --------------------------------------------------------------------------- verification


def log_use(
    certificate: Certificate | None,
    *,
    channel: str,
    verifier: str,
    result: str,
    purpose: str | None = None,
    action: str = "verify",
    reason: str | None = None,
    client=None,
    consent=None,
) -> Verification:
    """Record one check or use of a certificate (in the caller's transaction) and audit it."""
    entry = Verification(
        certificate=certificate,
        channel=channel,
        verifier=verifier[:128],
        purpose=(purpose or None) and purpose[:255],
        result=result,
        action=action,
        reason=reason,
        client=client,
        consent=consent,
        at=clock.now(),
    )
    db.session.add(entry)
    audit.record(
        f"certificate.{action}",
        subject=f"certificate:{certificate.identifier}" if certificate else None,
        purpose=entry.purpose,
        detail={
            "channel": channel,
            "verifier": entry.verifier,
            "result": result,
            "reason": reason,
            "client": client.client_id if client is not None else None,
        },
    )
    return entry


def issued_by(officer: Person) -> list[Certificate]:
    departments = [d.id for d in officer.departments("officer")]
    return list(
        db.session.execute(
            select(Certificate)
            .where(Certificate.issuer_id.in_(departments))
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        ).scalars()
    )


def _local_date(value: datetime | None) -> str:
    return value.astimezone(clock.BEIJING).date().isoformat() if value else str(_l("长期"))


def public_basics(snap) -> list[tuple[str, str]]:
    """What the public page may show of a `verification.Snapshot`: type, identifier, holder
    (a person's name masked), issuer, dates, and what replaced a superseded certificate."""
    ctype = certificate_type(snap.type_code)
    rows = [
        (_("证照类型"), ctype.name),
        (_("证照标识"), snap.identifier),
        (_("持证主体"), snap.holder),
        (_("发证机关"), snap.issuer),
        (_("发证日期"), _local_date(snap.when("issued_at"))),
        (_("有效期至"), _local_date(snap.when("expires_at"))),
    ]
    if snap.recorded_status in ("revoked", "suspended", "superseded") and snap.status_changed_at:
        rows.append((_("状态变更日期"), _local_date(snap.when("status_changed_at"))))
    if snap.recorded_status == "superseded" and snap.superseded_by:
        rows.append((_("替代证照标识"), snap.superseded_by))
    if ctype.public_fields:  # a business's registration facts are public (企业信息公示); a person's never
        facts = _public_facts(snap.identifier, snap.pdf_sha256, ctype)
        rows[3:3] = [(ctype.field(name).label, facts[name]) for name in ctype.public_fields if facts.get(name)]
    return rows


_PUBLIC_FACTS: dict[str, dict] = {}


def _public_facts(identifier: str, pdf_sha256: str, ctype: CertificateType) -> dict:
    """The type's public fields of one certificate: a certificate's data never changes (a change
    is a new version, a new document), so they are read and decrypted once per process."""
    facts = _PUBLIC_FACTS.get(pdf_sha256)
    if facts is None:
        certificate = find(identifier)
        data = certificate.data if certificate is not None else {}
        facts = {name: data.get(name, "") for name in ctype.public_fields}
        if len(_PUBLIC_FACTS) >= 4096:
            _PUBLIC_FACTS.clear()
        _PUBLIC_FACTS[pdf_sha256] = facts
    return facts


def summary(snap) -> dict:
    """Masked basics of a `verification.Snapshot` for a partner system (certificates:verify)."""
    ctype = certificate_type(snap.type_code)

    def iso(name):
        value = snap.when(name)
        return value.isoformat() if value else None

    return {
        "identifier": snap.identifier,
        "type": ctype.code,
        "type_name": ctype.name,
        "version": snap.version,
        "issuer": snap.issuer,
        "holder": snap.holder,
        "issued_at": iso("issued_at"),
        "expires_at": iso("expires_at"),
        "status_changed_at": iso("status_changed_at"),
        "superseded_by": snap.superseded_by if snap.recorded_status == "superseded" else None,
        "pdf_sha256": snap.pdf_sha256,
    }


def full_content(certificate: Certificate) -> dict:
    """Everything the certificate says (certificates:read, with the holder's consent)."""
    from .verification import snapshot

    ctype = certificate_type(certificate.type_code)
    data = certificate.data
    content = summary(snapshot(certificate.identifier))
    content["holder"] = certificate.holder_enterprise.name if certificate.holder_enterprise else certificate.holder.name
    if certificate.holder_enterprise is not None:
        content["holder_uscc"] = certificate.holder_enterprise.uscc
    content["fields"] = [
        {"name": f.name, "label": f.label, "value": data.get(f.name, "")} for f in ctype.fields if f.name in data
    ]
    return content


# --------------------------------------------------------------------------- 免提交: held certificates as materials


@dataclass(frozen=True)
class MaterialCheck:
    identifier: str
    ok: bool
    status: str
    reason: str


def usable_as_material(certificate: Certificate, holder: Person | None = None) -> tuple[bool, str]:
    """May this certificate stand in for a paper material (免提交)? (ok, reason when not).

    Only a valid certificate (not suspended, revoked, superseded or expired), and only for
    the person who holds it when ``holder`` is given.
    """
    if holder is not None and not may_hold(holder, certificate):
        return False, _("证照 %(id)s 不属于申请人，不能作为申请材料。", id=certificate.identifier)
    status = status_of(certificate)
    if status != "valid":
        name = certificate_type(certificate.type_code).name
        return False, _(
            "%(name)s（%(id)s）%(status)s，不能作为免提交材料。",
            name=name,
            id=certificate.identifier,
            status=status_label(status),
        )
    return True, ""


def usable_certificates(holder: Person, type_codes: Iterable[str] | None = None) -> list[Certificate]:
    """The holder's certificates that may be offered as materials now (optionally of these types)."""
    wanted = set(type_codes) if type_codes is not None else None
    return [c for c in wallet(holder) if (wanted is None or c.type_code in wanted) and usable_as_material(c, holder)[0]]


def check_held_materials(
    identifiers_given: Iterable[str], applicant: Person, *, case_id: int | None = None, case_number: str | None = None
) -> list[MaterialCheck]:
    """The check at acceptance (受理): is each certificate the application names still usable?

    Call it before the accept transition and refuse acceptance if any result is not ``ok``
    (``refusal_message`` gives the text). Each check is logged as a use of the certificate
    (shown in the holder's wallet) and audited; this function commits those log rows itself.
    """
    from .. import trust

    results = []
    # stored words, not the interface's language
    verifier = f"受理审查（办件 {case_number}）" if case_number else "受理审查"
    for identifier in identifiers_given:
        if trust.looks_like_credential(identifier):  # another platform's certificate (互认)
            results.append(_check_foreign(identifier, applicant, case_id))
            continue
        certificate = find(identifier)
        if certificate is None:
            results.append(
                MaterialCheck(
                    identifier, False, "not_found", _("未找到证照 %(id)s，不能作为免提交材料。", id=identifier)
                )
            )
            audit.record(
                "certificate.material",
                case_id=case_id,
                detail={"identifier": str(identifier)[:128], "result": "not_found"},
            )
            continue
        ok, reason = usable_as_material(certificate, applicant)
        status = status_of(certificate)
        holds = may_hold(applicant, certificate)
        log_use(
            certificate,
            channel="case",
            verifier=verifier,
            purpose="免提交材料核验",
            result=status if holds else "refused",
            action="material",
            reason=None if ok else (status if holds else "not_holder"),
        )
        results.append(MaterialCheck(certificate.identifier, ok, status, reason))
    db.session.commit()
    return results


def _check_foreign(credential: str, applicant: Person, case_id: int | None) -> MaterialCheck:
    """互认: a certificate another platform issued, checked against the trust list (signature
    under its published keys, its status list, validity, holder); audited either way."""
    from .. import trust

    names = {applicant.name} | {
        e.name
        for e in db.session.execute(
            select(Enterprise).where(Enterprise.id.in_(enterprises_acted_for(applicant)))
        ).scalars()
    }
    ok, reason, facts = trust.check_credential(credential, names)
    audit.record(
        "certificate.material.foreign",
        actor=applicant.id,
        case_id=case_id,
        subject=f"certificate:{facts.identifier}" if facts else None,
        detail={
            "issuer": facts.issuer.name if facts else None,
            "result": "valid" if ok else "refused",
            "reason": reason or None,
        },
    )
    return MaterialCheck(facts.identifier if facts else "", ok, "valid" if ok else "refused", reason)


def refusal_message(checks: Iterable[MaterialCheck]) -> str | None:
    """One message naming every unusable certificate, or None when all are usable."""
    reasons = [c.reason for c in checks if not c.ok]
    return "；".join(reasons) if reasons else None
