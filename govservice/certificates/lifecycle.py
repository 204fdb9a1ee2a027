"""The issuing department's decisions after issuance: suspend (暂停), resume (恢复), revoke
(吊销/撤销), and change of details (变更), which re-issues the licence as a new version that
supersedes the old one.

Only an officer of the issuing department may act, always with a reason. Each decision is
one transaction: the certificate's status, a ``CertificateEvent`` and an audit entry.
Verification reads the stored status on every request, so it reflects a decision at once.

A change keeps the GB/T 36904 serial and raises the version (001 -> 002 ...): the identifier
names the same licence in a new edition, and its check character changes with the version.
The new edition keeps the old one's expiry (a change does not extend the licence's term).
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from ..audit import services as audit
from ..core import clock
from ..core.extensions import db
from ..core.signals import certificate_changed
from ..identity.models import Person
from . import identifiers, issuance
from .models import Certificate, CertificateEvent
from .services import CertificateError, certificate_type, checked_data, status_label, status_of

MAX_REASON = 500


def _officer_certificate(certificate_id: int, officer: Person, reason: str) -> tuple[Certificate, str]:
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:
        raise CertificateError(_("证照不存在。"))
    if "officer" not in officer.roles(certificate.issuer_id):
        raise CertificateError(_("只有发证部门的工作人员可以办理该证照的变更、暂停、恢复或吊销。"))
    reason = (reason or "").strip()
    if not reason:
        raise CertificateError(_("请填写原因。"), "reason")
    if len(reason) > MAX_REASON:
        raise CertificateError(_("原因不能超过%(n)s字。", n=MAX_REASON), "reason")
    return certificate, reason


def _decide(
    certificate: Certificate, officer: Person, action: str, new_status: str, reason: str, allowed_from: tuple[str, ...]
) -> Certificate:
    """Set the status with a conditional UPDATE, so two officers acting at once cannot both win."""
    now = clock.now()
    values = {"status": new_status, "status_changed_at": now, "status_reason": reason}
    if new_status == "revoked":
        values.update(revoked_at=now, revoke_reason=reason)
    result = db.session.execute(
        update(Certificate)
        .where(Certificate.id == certificate.id, Certificate.status.in_(allowed_from))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        db.session.refresh(certificate)
        raise CertificateError(_("该证照当前状态为“%(s)s”，不能执行此操作。", s=status_label(status_of(certificate))))
    db.session.add(
        CertificateEvent(certificate_id=certificate.id, at=now, actor_id=officer.id, action=action, reason=reason)
    )
    audit.record(
        f"certificate.{action}",
        actor=officer,
        subject=f"certificate:{certificate.identifier}",
        case_id=certificate.case_id,
        detail={"reason": reason},
    )
    db.session.commit()
    certificate_changed.send(current_app._get_current_object(), certificate_id=certificate.id, action=action)
    db.session.refresh(certificate)
    return certificate


def revoke(certificate_id: int, officer: Person, reason: str) -> Certificate:
    """吊销: final. From valid or suspended (an expired certificate may still be revoked)."""
    certificate, reason = _officer_certificate(certificate_id, officer, reason)
    if certificate.status == "revoked":
        raise CertificateError(_("该证照已被吊销。"))
    if certificate.status == "superseded":
        raise CertificateError(_("该证照已被新证替代，请对新证办理。"))
    return _decide(certificate, officer, "revoke", "revoked", reason, ("valid", "suspended"))


def suspend(certificate_id: int, officer: Person, reason: str) -> Certificate:
    """暂停: until resumed. Only a currently valid certificate."""
    certificate, reason = _officer_certificate(certificate_id, officer, reason)
    if status_of(certificate) != "valid":
        raise CertificateError(_("该证照当前状态为“%(s)s”，不能暂停。", s=status_label(status_of(certificate))))
    return _decide(certificate, officer, "suspend", "suspended", reason, ("valid",))


def resume(certificate_id: int, officer: Person, reason: str) -> Certificate:
    """恢复: a suspended certificate becomes valid again (unless it has expired meanwhile)."""
    certificate, reason = _officer_certificate(certificate_id, officer, reason)
    if certificate.status != "suspended":
        raise CertificateError(_("只有已暂停的证照可以恢复。"))
    return _decide(certificate, officer, "resume", "valid", reason, ("suspended",))


def supersede(
    certificate_id: int, officer: Person, changes: dict, reason: str, *, case_id: int | None = None
) -> Certificate:
    """变更: issue the next version with the changed details; the old one becomes superseded.

    ``changes`` maps field names to new values (fields not named keep their value). Returns
    the new certificate. Refused for a revoked, superseded or expired certificate, or when
    nothing changes.

    The new version is rendered and signed before any row is touched; the one transaction
    after it supersedes the old version with a conditional UPDATE (of two officers acting at
    once, exactly one wins) and inserts the new one. The loser's signed PDF stays an
    unreferenced blob.
    """
    old, reason = _officer_certificate(certificate_id, officer, reason)
    status = status_of(old)
    if status not in ("valid", "suspended"):
        raise CertificateError(_("该证照当前状态为“%(s)s”，不能变更。", s=status_label(status)))
    ctype = certificate_type(old.type_code)
    current = old.data
    data = checked_data(ctype, dict(current, **{k: v for k, v in changes.items()}))
    if {k: v for k, v in data.items() if v} == {k: v for k, v in current.items() if v}:
        raise CertificateError(_("没有任何项目发生变化，无需换发新证。"))
    parsed = identifiers.parse_identifier(old.identifier)
    if parsed.version >= identifiers.MAX_VERSION:
        raise CertificateError(_("该证照的版本号已用尽，请重新申请。"))
    now = clock.now().replace(microsecond=0)
    draft = issuance.draft(
        ctype,
        old.holder,
        old.issuer,
        data,
        serial=parsed.serial,
        version=parsed.version + 1,
        issued_at=now,
        expires_at=old.expires_at,
        case_id=case_id,
        supersedes=old,
        actor=officer,
        enterprise=old.holder_enterprise,
    )
    old_id, old_identifier, old_case_id = old.id, old.identifier, old.case_id
    issuance.leave_transaction()
    signed = issuance.sign(draft)
    locked = db.session.execute(
        update(Certificate)
        .where(Certificate.id == old_id, Certificate.status.in_(("valid", "suspended")))
        .values(status="superseded", status_changed_at=now, status_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if locked.rowcount != 1:
        db.session.rollback()
        raise CertificateError(_("该证照已被他人办理，请刷新后查看。"))
    new = issuance.add(signed)
    db.session.add(
        CertificateEvent(certificate_id=old_id, at=now, actor_id=officer.id, action="supersede", reason=reason)
    )
    audit.record(
        "certificate.supersede",
        actor=officer,
        subject=f"certificate:{old_identifier}",
        case_id=old_case_id,
        detail={
            "reason": reason,
            "by": new.identifier,
            "changed": sorted(k for k in data if data.get(k) != current.get(k)),
        },
    )
    db.session.commit()
    certificate_changed.send(current_app._get_current_object(), certificate_id=old_id, action="supersede")
    return new


def history(certificate: Certificate) -> list[CertificateEvent]:
    return list(
        db.session.execute(
            select(CertificateEvent)
            .where(CertificateEvent.certificate_id == certificate.id)
            .order_by(CertificateEvent.id)
        ).scalars()
    )
