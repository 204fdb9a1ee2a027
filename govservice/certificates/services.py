"""Issuing, holding, verifying and revoking electronic certificates (电子证照).

Two QR tokens exist for a certificate, both compact JWS (ES256) under the published keys:
the one printed on the PDF cannot carry the PDF's own hash (it is part of the PDF), so it
names the certificate; the one the wallet shows also carries the SHA-256 of the signed PDF,
so a verifier holding the file can check it is the very document issued.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from flask import Flask, current_app, url_for
from sqlalchemy import select

from .. import blobs, clock, pii
from ..audit import services as audit
from ..config import ROOT
from ..counters import next_value
from ..extensions import db
from ..identity.models import Department, Person
from ..signals import case_transitioned
from . import identifiers, pdf, signing, tokens
from .models import Certificate, Verification
from .types import load_types

log = logging.getLogger(__name__)
LICENSES_DIR = ROOT / "licenses"

STATUS_LABELS = {
    "valid": "有效",
    "revoked": "已吊销",
    "suspended": "已暂停",
    "expired": "已过期",
    "superseded": "已被新证替代",
    "forged": "无效（伪造或被篡改）",
}


class CertificateError(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def init_app(app: Flask) -> None:
    app.extensions["certificate_types"] = load_types(LICENSES_DIR)
    app.extensions["cjk_font"] = pdf.find_cjk_font(app.config["CJK_FONT"] or None)
    keys_dir = f"{app.config['INSTANCE_DIR']}/keys"
    store = tokens.TokenKeyStore(f"{keys_dir}/token_keys")
    store.ensure_key()
    app.extensions["token_keys"] = store
    app.extensions["pdf_signing"] = signing.ensure_dev_pki(f"{keys_dir}/pki")
    case_transitioned.connect(_on_case_transitioned, sender=app, weak=False)


def _on_case_transitioned(app, case_id, action, **_):
    if action == "approve":
        from .tasks import issue_for_case_task
        issue_for_case_task.delay(case_id)


def certificate_type(code: str):
    return current_app.extensions["certificate_types"][code]


def _key_store() -> tokens.TokenKeyStore:
    return current_app.extensions["token_keys"]


def _department(code: str) -> Department:
    return db.session.execute(select(Department).where(Department.code == code)).scalar_one()


def _individual_business_credit_code(serial: int) -> str:
    """A unified social credit code for an individual business (登记管理部门 9, 类别 2).

    The organisation-code part is the serial in base 36 with its GB 11714 check character.
    """
    from stdnum.cn import uscc
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    body = ""
    n = serial
    for _ in range(8):
        n, r = divmod(n, 36)
        body = alphabet[r] + body
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    check = 11 - sum(alphabet.index(c) * w for c, w in zip(body, weights)) % 11
    org = body + {10: "X", 11: "0"}.get(check, str(check))
    number = "92" + current_app.config["REGION_CODE"] + org
    return number + uscc.calc_check_digit(number)


def _certificate_data(case) -> dict:
    mapping = case.item.definition.get("certificate", {})
    form = case.form_data
    decided_on = case.decided_at.astimezone(clock.BEIJING).date().isoformat()
    data = {}
    for target, source in mapping.items():
        if source.startswith("const:"):
            data[target] = source[len("const:"):]
        elif source.startswith("form."):
            data[target] = form.get(source[len("form."):], "")
        elif source == "case.decided_on":
            data[target] = decided_on
        elif source == "generated.credit_code":
            data[target] = _individual_business_credit_code(next_value("uscc:" + current_app.config["REGION_CODE"]))
    return data


def issue_for_case(case_id: int) -> Certificate | None:
    """Issue the certificate an approved case's item names, then complete the case.

    Idempotent: a case that already has its certificate is only completed.
    """
    from ..cases import services as cases
    case = db.session.get(cases.Case, case_id)
    if case is None or case.state != "approved":
        return None
    existing = db.session.execute(select(Certificate).where(Certificate.case_id == case_id)).scalar_one_or_none()
    if existing is None and case.item.result_type:
        existing = issue(case.item.result_type, case.applicant, _certificate_data(case), case_id=case.id)
    note = f"电子证照已签发：{existing.identifier}" if existing else "办结"
    cases.complete(case_id, None, note)
    return existing


def issue(type_code: str, holder: Person, data: dict, *, case_id: int | None = None,
          issued_at: datetime | None = None) -> Certificate:
    """Render, sign (PAdES) and store one certificate, with its QR tokens; commits."""
    ctype = certificate_type(type_code)
    issuer = _department(ctype.issuer_department)
    issued_at = (issued_at or clock.now()).replace(microsecond=0)
    expires_at = ctype.validity.expires(issued_at)
    serial = next_value(f"certificate:{ctype.licence_type_code}:{issuer.uscc}")
    identifier = identifiers.make_identifier(ctype.licence_type_code, issuer.uscc, serial)
    holder_label = pii.mask_name(holder.name)
    base_claims = {
        "cid": identifier, "typ": ctype.code, "iss": issuer.name, "sub": holder_label,
        "iat": int(issued_at.timestamp()),
    }
    if expires_at:
        base_claims["exp"] = int(expires_at.timestamp())
    printed_token = _key_store().sign(base_claims)
    rows = [(ctype.field(name).label, str(data.get(name, ""))) for name in ctype.layout.rows]
    local = issued_at.astimezone(clock.BEIJING)
    document = pdf.render_certificate_pdf(
        title=ctype.layout.title, subtitle=ctype.layout.subtitle, rows=rows,
        identifier=identifier, issuer_name=issuer.name, issued_on=f"{local:%Y年%m月%d日}",
        valid_until=f"{expires_at.astimezone(clock.BEIJING):%Y年%m月%d日}" if expires_at else "长期",
        verify_url=verify_url(printed_token), footer=ctype.layout.footer,
        font=current_app.extensions["cjk_font"],
    )
    signed = signing.sign_pdf(document, current_app.extensions["pdf_signing"],
                              reason=f"{issuer.name}签发{ctype.name}", location=current_app.config["PUBLIC_URL"])
    digest = hashlib.sha256(signed).hexdigest()
    wallet_token = _key_store().sign(dict(base_claims, sha256=digest))
    certificate = Certificate(
        identifier=identifier, type_code=ctype.code, holder=holder, case_id=case_id, issuer=issuer,
        data_enc=pii.encrypt_json(data), status="valid", issued_at=issued_at, expires_at=expires_at,
        pdf_blob_key=blobs.store().put(signed), pdf_sha256=digest, token=wallet_token,
    )
    db.session.add(certificate)
    db.session.flush()
    audit.record("certificate.issue", subject=f"certificate:{identifier}", case_id=case_id,
                 detail={"type": ctype.code, "issuer": issuer.code})
    db.session.commit()
    return certificate


def verify_url(token: str) -> str:
    return current_app.config["PUBLIC_URL"] + url_for("certificates.verify", token=token)


def pdf_bytes(certificate: Certificate) -> bytes:
    return blobs.store().get(certificate.pdf_blob_key)


def wallet(holder: Person) -> list[Certificate]:
    return list(db.session.execute(
        select(Certificate).where(Certificate.holder_id == holder.id).order_by(Certificate.issued_at.desc())).scalars())


def for_case(case) -> list[Certificate]:
    return list(db.session.execute(select(Certificate).where(Certificate.case_id == case.id)).scalars())


def find(identifier: str) -> Certificate | None:
    return db.session.execute(select(Certificate).where(Certificate.identifier == identifier)).scalar_one_or_none()


def status_of(certificate: Certificate) -> str:
    if certificate.status != "valid":
        return certificate.status
    if certificate.expires_at and certificate.expires_at <= clock.now():
        return "expired"
    return "valid"


def verify_token(token: str, *, channel: str, verifier: str, purpose: str | None = None) -> tuple[str, Certificate | None]:
    """Check a QR token; log the check; return (status, certificate or None when forged)."""
    certificate = None
    try:
        claims = _key_store().verify(token)
        certificate = find(str(claims.get("cid", "")))
        if certificate is None or certificate.type_code != claims.get("typ"):
            result, certificate = "forged", None
        else:
            result = status_of(certificate)
    except tokens.TokenError as exc:
        log.warning("certificate token refused: %s", exc.reason)
        result = "forged"
    db.session.add(Verification(certificate=certificate, channel=channel, verifier=verifier, purpose=purpose,
                                result=result, at=clock.now()))
    audit.record("certificate.verify", subject=f"certificate:{certificate.identifier}" if certificate else None,
                 purpose=purpose, detail={"channel": channel, "verifier": verifier, "result": result})
    db.session.commit()
    return result, certificate


def revoke(certificate_id: int, officer: Person, reason: str) -> Certificate:
    """吊销: only an officer of the issuing department, only with a reason."""
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:
        raise CertificateError("证照不存在。")
    if "officer" not in officer.roles(certificate.issuer_id):
        raise CertificateError("只有发证部门的工作人员可以吊销该证照。")
    if not reason or not reason.strip():
        raise CertificateError("请填写吊销原因。")
    if certificate.status == "revoked":
        raise CertificateError("该证照已被吊销。")
    certificate.status, certificate.revoked_at, certificate.revoke_reason = "revoked", clock.now(), reason.strip()
    audit.record("certificate.revoke", actor=officer, subject=f"certificate:{certificate.identifier}",
                 case_id=certificate.case_id, detail={"reason": reason.strip()})
    db.session.commit()
    return certificate


def issued_by(officer: Person) -> list[Certificate]:
    departments = [d.id for d in officer.departments("officer")]
    return list(db.session.execute(select(Certificate).where(Certificate.issuer_id.in_(departments))
                                   .order_by(Certificate.issued_at.desc())).scalars())


def public_basics(certificate: Certificate) -> list[tuple[str, str]]:
    """What the public page may show: type, identifier, masked holder, issuer, dates."""
    ctype = certificate_type(certificate.type_code)
    rows = [("证照类型", ctype.name), ("证照标识", certificate.identifier),
            ("持证主体", pii.mask_name(certificate.holder.name)), ("发证机关", certificate.issuer.name),
            ("发证日期", certificate.issued_at.astimezone(clock.BEIJING).date().isoformat()),
            ("有效期至", certificate.expires_at.astimezone(clock.BEIJING).date().isoformat()
             if certificate.expires_at else "长期")]
    return rows
