"""授权用证: the holder lets a named partner read one certificate's full content.

A grant names one certificate, one partner system (a registered client with the
``certificates:read`` scope), a purpose, and a time it lapses. It is handed over as a one-time
code (``K7QM-3XPD-9F2H``: 12 characters of Crockford's base 32, 60 random bits) or as a link
that carries the same code (``{PUBLIC_URL}/api/v1/consents/<code>``, which the partner's system
POSTs to with its bearer token). The first successful read uses it up; a withdrawn, expired,
used code, or one presented by another partner, is refused with a clear status, and every
attempt is logged where the holder sees it.
"""

from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, NoReturn

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from ..audit import services as audit
from ..core import clock, pii
from ..core.extensions import db
from ..identity.models import Person
from .models import Certificate, ConsentGrant

if TYPE_CHECKING:  # the partners domain's table; certificates sit below partners and do not import them
    from ..partners.models import PartnerClient
from .services import CertificateError, full_content, held_certificate, log_use, may_hold, status_label, status_of

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32: no I, L, O, U
CODE_LENGTH = 12
MAX_DAYS = 90
MAX_PURPOSE = 100
READ_SCOPE = "certificates:read"


class ConsentRefused(Exception):
    """A partner's read was refused: ``error`` is the API code, ``message`` the Chinese text."""

    def __init__(self, error: str, message, http_status: int):
        super().__init__(error)
        self.error, self.message, self.http_status = error, message, http_status


def normalise_code(text: str) -> str | None:
    """Upper-case, without separators, with the look-alikes Crockford allows (O->0, I/L->1)."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    code = text.strip().upper().replace("-", "").replace(" ", "")
    code = code.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def display_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def consent_link(code: str) -> str:
    return f"{current_app.config['PUBLIC_URL']}/api/v1/consents/{code}"  # the partners.read_with_consent route


def state_of(grant: ConsentGrant) -> str:
    """live | used | withdrawn | expired."""
    if grant.withdrawn_at is not None:
        return "withdrawn"
    if grant.used_at is not None:
        return "used"
    if grant.expires_at <= clock.now():
        return "expired"
    return "live"


STATE_LABELS = {"live": _l("可用"), "used": _l("已使用"), "withdrawn": _l("已撤回"), "expired": _l("已过期")}


def state_label(state: str) -> str:
    return str(STATE_LABELS[state])


def _client_table() -> type[PartnerClient]:
    """The partner systems' table, as the grant's `client` relationship names it."""
    return ConsentGrant.client.property.mapper.class_


def partners() -> list[PartnerClient]:
    """Partner systems a holder may grant to: active, with the read scope."""
    table = _client_table()
    clients = db.session.execute(
        select(table).where(table.disabled_at.is_(None)).order_by(table.organisation, table.name)
    ).scalars()
    return [c for c in clients if READ_SCOPE in c.scopes]


def parse_until(text: str) -> datetime:
    """A Beijing date (valid to the end of that day) or date and time from a form."""
    text = (text or "").strip()
    try:
        if "T" in text or " " in text:
            local = datetime.fromisoformat(text.replace(" ", "T"))
            if local.tzinfo is not None:
                raise ValueError
        else:
            local = datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), time(23, 59, 59))
    except ValueError:
        raise CertificateError(_("请填写有效的截止时间。"), "until") from None
    return local.replace(tzinfo=clock.BEIJING).astimezone(clock.now().tzinfo)


def grant(identifier: str, holder: Person, client_pk, purpose: str, until: str | datetime) -> ConsentGrant:
    """The holder grants one partner access to one certificate; returns the grant (its code inside)."""
    certificate = held_certificate(identifier, holder)
    status = status_of(certificate)
    if status != "valid":
        raise CertificateError(_("该证照当前状态为“%(s)s”，不能授权他人使用。", s=status_label(status)))
    try:
        client = db.session.get(_client_table(), int(client_pk))
    except (TypeError, ValueError):
        client = None
    if client is None or not client.active or READ_SCOPE not in client.scopes:
        raise CertificateError(_("请选择用证单位。"), "partner")
    purpose = (purpose or "").strip()
    if len(purpose) < 2 or len(purpose) > MAX_PURPOSE:
        raise CertificateError(_("请填写用证目的（2至%(n)s字）。", n=MAX_PURPOSE), "purpose")
    expires_at = until if isinstance(until, datetime) else parse_until(until)
    now = clock.now()
    if expires_at <= now:
        raise CertificateError(_("截止时间应晚于现在。"), "until")
    if expires_at > now + timedelta(days=MAX_DAYS):
        raise CertificateError(_("授权期限最长%(n)s天。", n=MAX_DAYS), "until")
    code = "".join(secrets.choice(ALPHABET) for _i in range(CODE_LENGTH))
    entry = ConsentGrant(
        certificate=certificate,
        granted_by=holder,
        client=client,
        purpose=purpose,
        code_hash=pii.lookup_hash(code),
        code_enc=pii.encrypt(code),
        created_at=now,
        expires_at=expires_at,
    )
    db.session.add(entry)
    db.session.flush()
    audit.record(
        "certificate.consent.grant",
        actor=holder,
        subject=f"certificate:{certificate.identifier}",
        purpose=purpose,
        detail={"client": client.client_id, "until": expires_at.isoformat(), "grant": entry.id},
    )
    db.session.commit()
    return entry


def withdraw(grant_id, holder: Person) -> ConsentGrant:
    try:
        entry = db.session.get(ConsentGrant, int(grant_id))
    except (TypeError, ValueError):
        entry = None
    if entry is None or not may_hold(holder, entry.certificate):  # e.g. another agent of the same enterprise
        raise CertificateError(_("授权不存在。"))
    state = state_of(entry)
    if state != "live":
        raise CertificateError(_("该授权%(s)s，无需撤回。", s=state_label(state)))
    now = clock.now()
    done = db.session.execute(
        update(ConsentGrant)
        .where(ConsentGrant.id == entry.id, ConsentGrant.used_at.is_(None), ConsentGrant.withdrawn_at.is_(None))
        .values(withdrawn_at=now)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        db.session.rollback()
        raise CertificateError(_("该授权刚刚已被使用，无法撤回。"))
    audit.record(
        "certificate.consent.withdraw",
        actor=holder,
        subject=f"certificate:{entry.certificate.identifier}",
        detail={"grant": entry.id},
    )
    db.session.commit()
    db.session.refresh(entry)
    return entry


REFUSALS = {
    "withdrawn": ("consent_withdrawn", _l("持证人已撤回该授权。"), 410),
    "used": ("consent_used", _l("该授权码已使用过，每个授权码只能使用一次。"), 410),
    "expired": ("consent_expired", _l("该授权已过期。"), 410),
}


def _log_read(entry: ConsentGrant, client: PartnerClient, result: str, reason: str | None = None) -> None:
    """The holder's log of a partner's read through the grant `entry` (in the caller's transaction)."""
    log_use(
        entry.certificate,
        channel="api",
        verifier=client.label,
        purpose=entry.purpose,
        result=result,
        action="read",
        reason=reason,
        client=client,
        consent=entry,
    )


def _refuse(entry: ConsentGrant, client: PartnerClient, error: str, message, http_status: int) -> NoReturn:
    """A refused read through a grant: logged for the holder and committed, then raised."""
    _log_read(entry, client, "refused", reason=error)
    db.session.commit()
    raise ConsentRefused(error, str(message), http_status)


def redeem(code_text: str, client: PartnerClient) -> tuple[ConsentGrant, Certificate, dict]:
    """A partner reads a certificate with a consent code; uses the grant up; logs the attempt.

    Raises ConsentRefused (unknown code, another partner's code, withdrawn, used, expired).
    """
    code = normalise_code(code_text)
    entry = None
    if code is not None:
        entry = db.session.execute(
            select(ConsentGrant).where(ConsentGrant.code_hash == pii.lookup_hash(code))
        ).scalar_one_or_none()
    if entry is None or entry.client_id != client.id:
        # Another partner's code is answered like an unknown one (nothing leaks), but the holder sees the attempt.
        if entry is not None:
            _log_read(entry, client, "refused", reason="wrong_partner")
        else:
            audit.record("certificate.read", detail={"client": client.client_id, "result": "consent_invalid"})
        db.session.commit()
        raise ConsentRefused("consent_invalid", _("授权码无效，或不是授予贵单位的。"), 404)
    state = state_of(entry)
    if state != "live":
        _refuse(entry, client, *REFUSALS[state])
    now = clock.now()
    used = db.session.execute(
        update(ConsentGrant)
        .where(
            ConsentGrant.id == entry.id,
            ConsentGrant.used_at.is_(None),
            ConsentGrant.withdrawn_at.is_(None),
            ConsentGrant.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:  # used or withdrawn a moment ago, by a concurrent request
        db.session.rollback()
        db.session.refresh(entry)
        _refuse(entry, client, *REFUSALS.get(state_of(entry), REFUSALS["used"]))
    certificate = entry.certificate
    _log_read(entry, client, status_of(certificate))
    content = full_content(certificate)
    db.session.commit()
    db.session.refresh(entry)
    return entry, certificate, content
