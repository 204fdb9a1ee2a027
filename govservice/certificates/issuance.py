"""The mechanics of issuing one certificate, in three steps that never hold a lock while working:

1. ``draft``: read what the certificate says from the session (the caller has drawn its serial);
   then ``leave_transaction`` ends the transaction (on SQLite this commits the counter);
2. ``sign``: render the PDF, sign it (PAdES B-LTA: the TSA is asked here), sign its QR
   reference and token and write the blob, with no transaction and no connection held: this is
   nearly all of an issuance's time, and two processes do it side by side;
3. ``add``: the rows (certificate, its ``issue`` event, the audit entry) in the session; the
   caller commits at once, so the last transaction only inserts.

The fonts, layouts, signing key and chain and token keys are loaded once per process (the app's
``init_app``) and only read here. The business rules (who may be issued what, the case) are in
``services.issue`` / ``services.issue_for_case`` and ``lifecycle.supersede``.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import exc as sa_exc

from ..audit import services as audit
from ..core import blobs, clock, pdfkit, pii
from ..core.extensions import db
from ..identity.models import Department, Enterprise, Person
from . import identifiers, shortref
from .models import Certificate, CertificateEvent
from .pki import pdf_signer, pdf_timestamper
from .types import CertificateType
from .urls import reference_url

log = logging.getLogger(__name__)

#: failures worth another try: the database or a service briefly unreachable, a deadlock or
#: serialisation failure, SQLite's "database is locked", a full connection pool, blob I/O, a TSA
#: that gave no token (``TimestampUnavailable`` is an ``OSError``)
TRANSIENT = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, OSError)


class AlreadyIssued(Exception):
    """The case already has its (first) certificate: another issuer committed it first."""

    def __init__(self, certificate: Certificate):
        super().__init__(certificate.identifier)
        self.certificate = certificate


@dataclass(frozen=True)
class Draft:
    """Everything one certificate says and refers to, as plain values: rendering and signing
    need no database, and nothing is lazily loaded (a query would open a transaction again)."""

    ctype: CertificateType
    identifier: str
    version: int
    data: dict
    subject: str  # the holder as the QR token names it: a business's name, a person's masked
    issuer_id: int
    issuer_code: str
    issuer_name: str
    holder_id: int
    enterprise_id: int | None
    issued_at: datetime
    expires_at: datetime | None
    case_id: int | None = None
    actor_id: int | None = None
    supersedes_id: int | None = None
    supersedes_identifier: str | None = None


@dataclass(frozen=True)
class Signed:
    draft: Draft
    pdf_blob_key: str
    pdf_sha256: str
    token: str  # the wallet's token: the certificate's claims and the signed PDF's SHA-256


def draft(
    ctype: CertificateType,
    holder: Person,
    issuer: Department,
    data: dict,
    *,
    serial: int | str,
    version: int,
    issued_at: datetime,
    expires_at: datetime | None,
    case_id: int | None = None,
    supersedes: Certificate | None = None,
    actor: Person | None = None,
    enterprise: Enterprise | None = None,
) -> Draft:
    return Draft(
        ctype=ctype,
        identifier=identifiers.make_identifier(ctype.licence_type_code, issuer.uscc, serial, version),
        version=version,
        data=data,
        subject=enterprise.name if enterprise is not None else pii.mask_name(holder.name),
        issuer_id=issuer.id,
        issuer_code=issuer.code,
        issuer_name=issuer.name,
        holder_id=holder.id,
        enterprise_id=enterprise.id if enterprise is not None else None,
        issued_at=issued_at,
        expires_at=expires_at,
        case_id=case_id,
        actor_id=getattr(actor, "id", None),
        supersedes_id=supersedes.id if supersedes is not None else None,
        supersedes_identifier=supersedes.identifier if supersedes is not None else None,
    )


def leave_transaction() -> None:
    """End the session's transaction before the slow part, keeping its objects loaded.

    Normally the session holds only reads, and on SQLite the counter just drawn, which this
    commits (releasing the database's write lock). Objects are not expired: nothing was
    changed in them, and reloading them would open a transaction again.
    """
    _commit_unexpired()


def _commit_unexpired() -> bool:
    """Commit without expiring what the session holds; whether a commit would have."""
    session = db.session()
    keep, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep
    return keep


def commit_keeping(*written) -> None:
    """Commit, and expire what the session holds as a commit does, except ``written``: rows this
    transaction inserted, whose loaded values are what the database holds (every default is
    the client's), so that the listeners of the issue and the caller read them without
    loading them again (the holder's notice alone would SELECT the certificate back)."""
    if _commit_unexpired():
        session = db.session()
        kept = {id(obj) for obj in written}
        for obj in list(session.identity_map.values()):
            if id(obj) not in kept:
                session.expire(obj)


def sign(draft: Draft) -> Signed:
    """Render, sign and store the PDF and sign the tokens; touches no database."""
    from . import pdf, signing  # ReportLab, zxing-cpp and pyHanko: only in a process that issues

    ctype = draft.ctype
    claims = {
        "cid": draft.identifier,
        "typ": ctype.code,
        "iss": draft.issuer_name,
        "sub": draft.subject,
        "iat": int(draft.issued_at.timestamp()),
    }
    if draft.expires_at:
        claims["exp"] = int(draft.expires_at.timestamp())
    keys = current_app.extensions["token_keys"]
    # the printed QR: a short signed reference a phone reads from paper (the wallet's token is
    # the full JWS, with the signed PDF's hash)
    printed = shortref.make(
        keys, ctype.code, draft.issuer_code, int(identifiers.parse_identifier(draft.identifier).serial), draft.version
    )
    document = pdf.render_certificate_pdf(
        **layout(
            ctype,
            draft.data,
            draft.identifier,
            draft.issuer_name,
            draft.issued_at,
            draft.expires_at,
            reference_url(printed),
        ),
        font=pdfkit.font(),
    )
    signed = signing.sign_pdf(
        document,
        pdf_signer(),
        reason=f"{draft.issuer_name}签发{ctype.name}",
        location=current_app.config["PUBLIC_URL"],
        timestamper=pdf_timestamper(),
    )
    digest = hashlib.sha256(signed).hexdigest()
    return Signed(
        draft=draft,
        pdf_blob_key=blobs.store().put(signed),
        pdf_sha256=digest,
        token=keys.sign(dict(claims, sha256=digest)),
    )


def layout(
    ctype: CertificateType,
    data: dict,
    identifier: str,
    issuer_name: str,
    issued_at: datetime,
    expires_at: datetime | None,
    verify_url: str,
) -> dict:
    """What the page says, the same for the PDF and the OFD (``govservice.ofd``)."""
    local = issued_at.astimezone(clock.BEIJING)
    title = str(data.get(ctype.layout.title_field) or "") if ctype.layout.title_field else ""
    return dict(
        title=title or ctype.layout.title,
        subtitle=ctype.layout.subtitle,
        rows=[(ctype.field(name).label, str(data.get(name, ""))) for name in ctype.layout.rows],
        identifier=identifier,
        issuer_name=regional_name(issuer_name),
        issued_on=f"{local:%Y年%m月%d日}",
        valid_until=f"{expires_at.astimezone(clock.BEIJING):%Y年%m月%d日}" if expires_at else "长期",
        verify_url=verify_url,
        footer=ctype.layout.footer,
        orientation=ctype.layout.orientation,
        issuer_label=ctype.layout.issuer_label,
    )


def number_hash(ctype, data: dict) -> str | None:
    """The lookup hash of a certificate's number (证号), if its type names one."""
    value = data.get(ctype.number_field) if ctype.number_field else None
    return pii.lookup_hash(str(value)) if value else None


def regional_name(issuer_name: str) -> str:
    """The issuer as printed: named with its region (北京市朝阳区市场监督管理局), as on the paper."""
    region = current_app.config.get("REGION_NAME") or ""
    return issuer_name if issuer_name.startswith(region) else f"{region}{issuer_name}"


def add(signed: Signed) -> Certificate:
    """The certificate, its ``issue`` event and the audit entry, in the session (the caller
    commits). For a first issue of a case, the flush is where the database's unique index
    on the case refuses a second certificate (IntegrityError)."""
    d = signed.draft
    certificate = Certificate(
        identifier=d.identifier,
        type_code=d.ctype.code,
        holder_id=d.holder_id,
        holder_enterprise_id=d.enterprise_id,
        case_id=d.case_id,
        issuer_id=d.issuer_id,
        data_enc=pii.encrypt_json(d.data),
        number_hash=number_hash(d.ctype, d.data),
        status="valid",
        issued_at=d.issued_at,
        expires_at=d.expires_at,
        pdf_blob_key=signed.pdf_blob_key,
        pdf_sha256=signed.pdf_sha256,
        token=signed.token,
        version=d.version,
        supersedes_id=d.supersedes_id,
    )
    db.session.add(certificate)
    db.session.flush()
    db.session.add(
        CertificateEvent(
            certificate_id=certificate.id,
            at=d.issued_at,
            actor_id=d.actor_id,
            action="issue",
            reason=f"替代 {d.supersedes_identifier}" if d.supersedes_identifier else None,
        )
    )
    audit.record(
        "certificate.issue",
        actor=d.actor_id,
        subject=f"certificate:{d.identifier}",
        case_id=d.case_id,
        detail={
            "type": d.ctype.code,
            "issuer": d.issuer_code,
            "version": d.version,
            "supersedes": d.supersedes_identifier,
        },
    )
    return certificate


def warm_up() -> None:
    """Render and sign one throw-away certificate (nothing stored), so that what is built on
    first use (pyHanko's signature-size estimate, ReportLab's font caches) is built now, once
    per process (a worker's main process before it forks), not in the first issuance."""
    from . import pdf, signing

    ctype = next(iter(current_app.extensions["certificate_types"].values()))
    rows = [(field.label, "示例") for field in ctype.fields]
    document = pdf.render_certificate_pdf(
        title=ctype.layout.title,
        subtitle=ctype.layout.subtitle,
        rows=rows,
        identifier="WARM-UP",
        issuer_name="示例发证机关",
        issued_on="2026年01月01日",
        valid_until="长期",
        verify_url=f"{current_app.config['PUBLIC_URL']}/v/warm-up",
        footer=ctype.layout.footer,
        font=pdfkit.font(),
    )
    from .tsa_errors import TimestampUnavailable

    try:
        signing.sign_pdf(
            document,
            pdf_signer(),
            reason="warm-up",
            location=current_app.config["PUBLIC_URL"],
            timestamper=pdf_timestamper(),
        )
    except TimestampUnavailable as exc:  # the worker starts all the same; issuances retry the TSA
        log.warning("warm-up without the TSA (%s): the first certificate sizes its signature", exc)
