"""Notices (消息通知): every change of a case's state reaches its applicant in the platform (a
list and an unread badge) and by e-mail; an answered consultation reaches the person who asked.

The cases and catalog domains only send signals (`case_transitioned`, `consultation_answered`);
this domain listens. A notice never breaks the action that caused it: a failure is logged.
E-mail goes through a Celery task (inline by default), and a mail server that is down only marks
the notice `failed`.
"""
from __future__ import annotations

import logging
import re
from email.message import EmailMessage
from email.utils import formataddr, parseaddr

from flask import Flask, current_app, has_request_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, inspect, select, update

from .. import clock, pii
from ..extensions import db
from ..identity.models import Person
from ..signals import (case_transitioned, case_transitioning, certificate_expiring, certificate_expiry_noticed,
                       consultation_answered)
from .mail import MailError, from_config
from .models import Notice, NoticeSettings

log = logging.getLogger(__name__)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class NoticeError(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def init_app(app: Flask) -> None:
    app.extensions["mailer"] = from_config(app)
    case_transitioning.connect(_on_case_transitioning, sender=app, weak=False)
    case_transitioned.connect(_on_case_transitioned, sender=app, weak=False)
    consultation_answered.connect(_on_consultation_answered, sender=app, weak=False)
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
    if notice is not None:
        db.session.info.setdefault("notices_to_mail", []).append(notice)


def _on_certificate_expiring(app, certificate, days_left, **_kw):
    """到期提醒: the holder's notice, in the timer's transaction (which marks it sent)."""
    from ..certificates.services import certificate_type
    expires = certificate.expires_at.astimezone(clock.BEIJING).date()
    notice = Notice(recipient_id=certificate.holder_id, kind="certificate.expiring",
                    params={"name": certificate_type(certificate.type_code).name, "expires": expires.isoformat(),
                            "days": days_left, "identifier": certificate.identifier},
                    url=_path("certificates.wallet"), created_at=clock.now())
    db.session.add(notice)
    db.session.info.setdefault("notices_to_mail", []).append(notice)


def _on_case_transitioned(app, case_id, action, **_kw):
    _mail_committed_notices(app)


def _mail_committed_notices(app, **_kw):
    """After a commit that wrote notices: queue their e-mails."""
    for notice in db.session.info.pop("notices_to_mail", []):
        _send_later(notice)


def _on_consultation_answered(app, consultation_id, **_kw):
    try:
        notice = notify_consultation(consultation_id)
    except Exception:
        log.exception("could not make the notice for consultation %s", consultation_id)
        db.session.rollback()
        return
    _send_later(notice)


def _send_later(notice: Notice | None) -> None:
    if notice is None:
        return
    from .tasks import send_email_task
    identity = inspect(notice).identity  # the id without reloading the committed row
    if identity is None:  # the transaction that made it was rolled back
        return
    try:
        send_email_task.delay(identity[0])
    except Exception:  # a broker that is down: the notice stays in the platform
        log.exception("could not queue the e-mail for notice %s", identity[0])


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
    params = {"number": case.number, "item": case.item.name, "state": state, "department": department,
              "deadline": deadline.isoformat() if deadline else "", "note": (note or "")[:300]}
    notice = Notice(recipient_id=case.applicant_id, case_id=case.id, kind=f"case.{action}", params=params,
                    url=_path("cases.detail", number=case.number), created_at=clock.now())
    db.session.add(notice)
    return notice


def notify_consultation(consultation_id: int) -> Notice | None:
    from ..catalog.models import Consultation, ServiceItem
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        return None
    item = db.session.execute(select(ServiceItem).where(ServiceItem.code == consultation.item_code,
                                                        ServiceItem.is_current.is_(True))).scalar_one_or_none()
    notice = Notice(recipient_id=consultation.asker_id, kind="consultation.answered",
                    params={"item": item.name if item else consultation.item_code,
                            "department": consultation.department.name},
                    url=_path("catalog.guide", code=consultation.item_code) + "#consultation", created_at=clock.now())
    db.session.add(notice)
    db.session.commit()
    return notice


# --------------------------------------------------------------------------- words


def render(notice: Notice) -> tuple[str, str]:
    """(title, body) of a notice, in the current language."""
    from ..cases.statemachine import label as state_label
    p = dict(notice.params or {})
    if notice.kind == "consultation.answered":
        return (_("您的咨询已答复"),
                _("%(department)s已答复您关于“%(item)s”的咨询，请在办事指南页面查看。", **p))
    if notice.kind == "certificate.expiring":
        return (_("您的%(name)s即将到期", name=p.get("name", "")),
                _("您的%(name)s将于 %(expires)s 到期（还有 %(days)s 天）。如需继续使用，请及时办理延续或换证。",
                  name=p.get("name", ""), expires=p.get("expires", ""), days=p.get("days", "")))
    action = notice.kind.split(".", 1)[1] if notice.kind.startswith("case.") else ""
    number, item = p.get("number", ""), p.get("item", "")
    titles = {
        "submit": _("办件 %(number)s 已提交", number=number),
        "accept": _("办件 %(number)s 已受理", number=number),
        "request_supplement": _("办件 %(number)s 需要补正材料", number=number),
        "return_for_supplement": _("办件 %(number)s 需要补正材料", number=number),
        "resubmit": _("办件 %(number)s 补正材料已提交", number=number),
        "not_accept": _("办件 %(number)s 不予受理", number=number),
        "withdraw": _("办件 %(number)s 已撤回", number=number),
        "lapse": _("办件 %(number)s 逾期未补正，视为撤回", number=number),
        "claim": _("办件 %(number)s 进入审查", number=number),
        "approve": _("办件 %(number)s 已批准", number=number),
        "deny": _("办件 %(number)s 不予批准", number=number),
        "complete": _("办件 %(number)s 已办结", number=number),
        "hand_over": _("办件 %(number)s 办理结果已领取", number=number),
    }
    bodies = {
        "submit": _("您申请的“%(item)s”已提交，等待综合窗口受理。", item=item),
        "accept": _("您申请的“%(item)s”已受理，承诺于 %(deadline)s 前办结。", item=item, deadline=p.get("deadline", "")),
        "request_supplement": _("您申请的“%(item)s”需要补正材料，请在办件详情中查看一次性告知书并按要求补正。", item=item),
        "return_for_supplement": _("您申请的“%(item)s”需要补正材料，请在办件详情中查看一次性告知书并按要求补正。", item=item),
        "resubmit": _("您已为“%(item)s”提交补正材料，等待综合窗口核验。", item=item),
        "not_accept": _("您申请的“%(item)s”不予受理。%(note)s", item=item, note=p.get("note", "")),
        "withdraw": _("您申请的“%(item)s”已撤回。", item=item),
        "lapse": _("您申请的“%(item)s”未在补正期限内补正材料，视为撤回申请。如仍需办理，请重新提交申请。", item=item),
        "claim": _("您申请的“%(item)s”已进入审查。", item=item),
        "approve": _("您申请的“%(item)s”已批准。", item=item),
        "deny": _("您申请的“%(item)s”不予批准。%(note)s", item=item, note=p.get("note", "")),
        "complete": _("您申请的“%(item)s”已办结。%(note)s", item=item, note=p.get("note", "")),
        "hand_over": _("您申请的“%(item)s”的办理结果已交付。", item=item),
    }
    state = state_label(p.get("state", ""))
    title = titles.get(action, _("办件 %(number)s 办理进度更新", number=number))
    body = bodies.get(action, _("您申请的“%(item)s”有新的办理进度，当前状态：%(state)s。", item=item, state=state))
    return title, body.strip()


# --------------------------------------------------------------------------- e-mail


def deliver_email(notice_id: int) -> str | None:
    """Send (or, in development, log) the notice's e-mail; records and returns the outcome."""
    notice = db.session.get(Notice, notice_id)
    if notice is None:
        return None
    settings = db.session.get(NoticeSettings, notice.recipient_id)
    mailer = current_app.extensions["mailer"]
    address = settings.email if settings is not None else None
    if settings is not None and not settings.email_enabled:
        status = "off"
    elif not address and mailer.kind != "log":
        status = "no_address"
    else:
        with force_locale("zh_Hans_CN"):
            title, body = render(notice)
        message = EmailMessage()
        sender_name, sender = parseaddr(current_app.config["MAIL_FROM"])
        message["From"] = formataddr((sender_name, sender)) if sender_name else sender
        message["To"] = address or "(未设置邮箱)"
        message["Subject"] = title
        link = current_app.config["PUBLIC_URL"] + (notice.url or "")
        message.set_content(f"{pii.mask_name(notice.recipient.name)}，您好：\n\n{body}\n\n查看详情：{link}\n\n"
                            "——一网通办政务服务平台（本邮件由系统自动发送，请勿回复）\n")
        try:
            mailer.send(message)
            status = "sent" if mailer.kind != "log" else "logged"
        except MailError as exc:
            log.warning("e-mail for notice %s not sent: %s", notice.id, exc)
            status = "failed"
    notice.email_status = status
    notice.emailed_at = clock.now() if status in ("sent", "logged") else None
    db.session.commit()
    return status


# --------------------------------------------------------------------------- reading


def notices_of(person: Person, limit: int = 100) -> list[Notice]:
    return list(db.session.execute(select(Notice).where(Notice.recipient_id == person.id)
                                   .order_by(Notice.id.desc()).limit(limit)).scalars())


def unread_count(person: Person) -> int:
    return db.session.execute(select(func.count(Notice.id)).where(
        Notice.recipient_id == person.id, Notice.read_at.is_(None))).scalar_one()


def open_notice(person: Person, notice_id: int) -> Notice:
    notice = db.session.get(Notice, notice_id)
    if notice is None or notice.recipient_id != person.id:
        raise NoticeError(_("消息不存在。"))
    if notice.read_at is None:
        notice.read_at = clock.now()
        db.session.commit()
    return notice


def mark_all_read(person: Person) -> int:
    result = db.session.execute(update(Notice).where(Notice.recipient_id == person.id, Notice.read_at.is_(None))
                                .values(read_at=clock.now()))
    db.session.commit()
    return result.rowcount


def settings_of(person: Person) -> NoticeSettings:
    return db.session.get(NoticeSettings, person.id) or NoticeSettings(person_id=person.id, email_enabled=True)


def update_settings(person: Person, email: str, enabled: bool) -> NoticeSettings:
    email = (email or "").strip()
    if email and (len(email) > 254 or not EMAIL.match(email)):
        raise NoticeError(_("请填写正确的电子邮箱地址。"))
    if enabled and not email:
        raise NoticeError(_("接收邮件通知需要填写电子邮箱地址。"))
    settings = db.session.get(NoticeSettings, person.id)
    if settings is None:
        settings = NoticeSettings(person_id=person.id)
        db.session.add(settings)
    settings.email_enc = pii.encrypt(email) if email else None
    settings.email_enabled = bool(enabled)
    from ..audit import services as audit
    audit.record("notify.settings", actor=person, subject=f"person:{person.id}", detail={"email": bool(email),
                                                                                        "enabled": bool(enabled)})
    db.session.commit()
    return settings
