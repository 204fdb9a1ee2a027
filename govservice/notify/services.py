"""Notices (消息通知): every change of a case's state reaches its applicant in the platform (a
list and an unread badge), by e-mail and by SMS; so does every change of a certificate (签发,
暂停, 恢复, 吊销, 换发) its holder; an answered consultation reaches the person who asked.

The cases and catalog domains only send signals (`case_transitioned`, `consultation_answered`);
this domain listens. A notice never breaks the action that caused it: a failure is logged.
A notice to send is queued in its own row, in the transaction that makes it; the worker's beat
sends the queue every second in batches (inline, at once, when embedded), so a broker that is down
delays a notice and loses none. A mail server or SMS gateway that is down only marks that channel
of the notice `failed`. Each person chooses the channels (通知设置):
e-mail is on once an address is given, SMS is on by default, to the phone the person gave or else
the one their login asserted. The SMS gateway reports delivery back (`record_sms_status`).
"""

from __future__ import annotations

import logging
import re

from flask import Flask, current_app, has_request_context, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, inspect, select, update

from ..audit import services as audit
from ..catalog.models import Consultation, ServiceItem
from ..certificates import services as certificates
from ..certificates.models import Certificate
from ..certificates.services import certificate_type
from ..core import clock, pii, rows
from ..core.extensions import db
from ..core.signals import (
    case_transitioned,
    case_transitioning,
    certificate_changed,
    certificate_expiring,
    certificate_expiry_noticed,
    consultation_answered,
    people_alerted,
)
from ..identity.models import Person
from . import sms
from .delivery import MOBILE, deliver, deliver_email, deliver_sms, record_sms_status, render  # noqa: F401  (notify's API)
from .mail import from_config
from .models import Notice, NoticeSettings

log = logging.getLogger(__name__)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class NoticeError(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def init_app(app: Flask) -> None:
    app.extensions["mailer"] = from_config(app)
    app.extensions["sms_gateway"] = sms.from_config(app)
    app.add_template_filter(pii.mask_phone, "mask_phone")
    case_transitioning.connect(_on_case_transitioning, sender=app, weak=False)
    certificate_changed.connect(_on_certificate_changed, sender=app, weak=False)
    case_transitioned.connect(_on_case_transitioned, sender=app, weak=False)
    consultation_answered.connect(_on_consultation_answered, sender=app, weak=False)
    people_alerted.connect(_on_people_alerted, sender=app, weak=False)
    certificate_expiring.connect(_on_certificate_expiring, sender=app, weak=False)
    certificate_expiry_noticed.connect(_mail_committed_notices, sender=app, weak=False)

    @app.context_processor
    def unread_notices():
        def count() -> int:
            if not current_user or not current_user.is_authenticated:
                return 0
            return unread_count(current_user)

        return {"unread_notice_count": count}


def _on_case_transitioning(app, case, action, state, note, changes, **_kw):
    """The notice is written in the transition's own transaction: no second commit, and a case
    never changes without its applicant's notice. Making it must not break the transition."""
    try:
        notice = notify_case(case, action, state=state, note=note, deadline=changes.get("deadline", case.deadline))
    except Exception:
        log.exception("could not make the notice for case %s (%s)", case.id, action)
        return
    _send_after_commit(notice)


def _on_certificate_expiring(app, certificate, days_left, **_kw):
    """到期提醒: the holder's notice, in the timer's transaction (which marks it sent)."""
    expires = certificate.expires_at.astimezone(clock.BEIJING).date()
    notice = Notice(
        recipient_id=certificate.holder_id,
        kind="certificate.expiring",
        params={
            "name": certificate_type(certificate.type_code).name,
            "expires": expires.isoformat(),
            "days": days_left,
            "identifier": certificate.identifier,
        },
        url=_path("certificates.wallet"),
        created_at=clock.now(),
        queued=True,  # e-mailed and texted too (deliver_queued)
    )
    db.session.add(notice)
    _send_after_commit(notice)


def _on_case_transitioned(app, case_id, action, **_kw):
    _mail_committed_notices(app)


def _mail_committed_notices(app, **_kw):
    """After a commit that wrote notices: queue their e-mails."""
    for notice in db.session.info.pop("notices_to_mail", []):
        _send_later(notice)


def _on_people_alerted(app, recipients, kind, params, **_kw):
    """One notice per recipient, in the sender's transaction (shown in 消息 with the unread badge)."""
    now = clock.now()
    for person_id, endpoint, values in recipients:
        if person_id is not None:
            db.session.add(
                Notice(recipient_id=person_id, kind=kind, params=params, url=_path(endpoint, **values), created_at=now)
            )


def _on_consultation_answered(app, consultation_id, **_kw):
    try:
        notice = notify_consultation(consultation_id)
    except Exception:
        log.exception("could not make the notice for consultation %s", consultation_id)
        db.session.rollback()
        return
    _send_later(notice)


def _on_certificate_changed(app, certificate_id, action, **_kw):
    try:
        notice = notify_certificate(certificate_id, action)
    except Exception:
        log.exception("could not make the notice for certificate %s (%s)", certificate_id, action)
        db.session.rollback()
        return
    _send_later(notice)


def _send_after_commit(notice: Notice | None) -> None:
    """A notice made in a transaction still open: sent once it commits (`_mail_committed_notices`),
    when embedded; with a broker the beat sends it (`_send_later`) and nothing is kept here."""
    if notice is not None and not current_app.config["CELERY_BROKER_URL"]:
        db.session.info.setdefault("notices_to_mail", []).append(notice)


def _send_later(notice: Notice | None) -> None:
    """After the commit that made a queued notice. With a broker the worker's beat sends the queue
    every second (`notify.deliver_queued`), in batches: nothing to queue here, and a broker that
    is down loses nothing. Embedded (jobs inline), it is sent now."""
    if notice is None or current_app.config["CELERY_BROKER_URL"]:
        return
    identity = inspect(notice).identity  # the id without reloading the committed row
    if identity is None:  # the transaction that made it was rolled back
        return
    try:
        deliver(identity[0])
    except Exception:  # recorded on the notice; the action that caused it stands
        log.exception("could not deliver notice %s", identity[0])


def _path(endpoint: str, **values) -> str:
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context():  # a job or a command: no request to build the path from
        return url_for(endpoint, **values)


def notify_case(case, action: str, *, state: str, note: str | None, deadline=None) -> Notice | None:
    """The applicant's notice of one transition (the case's values as the transition leaves them),
    added to the transition's transaction."""
    if case.number is None:
        return None
    department = case.department.name if case.department_id else ""
    params = {
        "number": case.number,
        "item": case.item.name,
        "state": state,
        "department": department,
        "deadline": deadline.isoformat() if deadline else "",
        "note": (note or "")[:300],
    }
    return rows.insert_one(  # every transition writes one: no unit of work for it (core.rows)
        Notice,
        {
            "recipient_id": case.applicant_id,
            "case_id": case.id,
            "kind": f"case.{action}",
            "params": params,
            "url": _path("cases.detail", number=case.number),
            "created_at": clock.now(),
            "queued": True,  # e-mailed and texted too (deliver_queued)
        },
        key_needed=not current_app.config["CELERY_BROKER_URL"],  # embedded, sent by its key after the commit
    )


def notify_consultation(consultation_id: int) -> Notice | None:
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        return None
    item = db.session.execute(
        select(ServiceItem).where(ServiceItem.code == consultation.item_code, ServiceItem.is_current.is_(True))
    ).scalar_one_or_none()
    notice = Notice(
        recipient_id=consultation.asker_id,
        kind="consultation.answered",
        params={"item": item.name if item else consultation.item_code, "department": consultation.department.name},
        url=_path("catalog.guide", code=consultation.item_code) + "#consultation",
        created_at=clock.now(),
        queued=True,  # e-mailed and texted too (deliver_queued)
    )
    db.session.add(notice)
    db.session.commit()
    return notice


CERTIFICATE_ACTIONS = ("issue", "suspend", "resume", "revoke", "supersede")


def notify_certificate(certificate_id: int, action: str) -> Notice | None:
    """The holder's notice of a change to their certificate (its own transaction)."""
    if action not in CERTIFICATE_ACTIONS:
        return None

    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:
        return None
    params = {
        "type": certificates.certificate_type(certificate.type_code).name,
        "identifier": certificate.identifier,
        "reason": (certificate.status_reason or "")[:300],
    }
    notice = Notice(
        recipient_id=certificate.holder_id,
        kind=f"certificate.{action}",
        params=params,
        url=_path("certificates.wallet") + f"#c-{certificate.id}",
        created_at=clock.now(),
        queued=True,  # e-mailed and texted too (deliver_queued)
    )
    db.session.add(notice)
    db.session.commit()
    return notice


# --------------------------------------------------------------------------- reading


def notices_of(person: Person, limit: int = 100) -> list[Notice]:
    return list(
        db.session.execute(
            select(Notice).where(Notice.recipient_id == person.id).order_by(Notice.id.desc()).limit(limit)
        ).scalars()
    )


def unread_count(person: Person) -> int:
    return db.session.execute(
        select(func.count(Notice.id)).where(Notice.recipient_id == person.id, Notice.read_at.is_(None))
    ).scalar_one()


def open_notice(person: Person, notice_id: int) -> Notice:
    notice = db.session.get(Notice, notice_id)
    if notice is None or notice.recipient_id != person.id:
        raise NoticeError(_("消息不存在。"))
    if notice.read_at is None:
        notice.read_at = clock.now()
        db.session.commit()
    return notice


def mark_all_read(person: Person) -> int:
    result = db.session.execute(
        update(Notice).where(Notice.recipient_id == person.id, Notice.read_at.is_(None)).values(read_at=clock.now())
    )
    db.session.commit()
    return result.rowcount


def settings_of(person: Person) -> NoticeSettings:
    return db.session.get(NoticeSettings, person.id) or NoticeSettings(
        person_id=person.id, email_enabled=True, sms_enabled=True
    )


def update_settings(
    person: Person, email: str, enabled: bool, *, phone: str | None = None, sms_enabled: bool | None = None
) -> NoticeSettings:
    """通知设置: the e-mail address and switch, and the SMS phone and switch (None: unchanged)."""
    email = (email or "").strip()
    if email and (len(email) > 254 or not EMAIL.match(email)):
        raise NoticeError(_("请填写正确的电子邮箱地址。"))
    if enabled and not email:
        raise NoticeError(_("接收邮件通知需要填写电子邮箱地址。"))
    phone = re.sub(r"[\s-]", "", phone or "") if phone is not None else None
    if phone and not MOBILE.match(phone):
        raise NoticeError(_("请填写正确的手机号码（11位，以1开头）。"))
    if sms_enabled and phone is not None and not phone and not person.phone:
        raise NoticeError(_("接收短信通知需要填写手机号码。"))
    settings = db.session.get(NoticeSettings, person.id)
    if settings is None:
        settings = NoticeSettings(person_id=person.id, sms_enabled=True)
        db.session.add(settings)
    settings.email_enc = pii.encrypt(email) if email else None
    settings.email_enabled = bool(enabled)
    if phone is not None:
        settings.phone_enc = pii.encrypt(phone) if phone else None
    if sms_enabled is not None:
        settings.sms_enabled = bool(sms_enabled)

    audit.record(
        "notify.settings",
        actor=person,
        subject=f"person:{person.id}",
        detail={
            "email": bool(email),
            "enabled": bool(enabled),
            "phone": bool(settings.phone_enc),
            "sms": bool(settings.sms_enabled),
        },
    )
    db.session.commit()
    return settings
