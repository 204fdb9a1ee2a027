"""A notice's words and its delivery by SMS and e-mail (the Celery tasks' work, ``tasks.py``);
``services`` makes the notices and queues them. The words are rendered in the current language;
SMS and e-mail go out in Chinese."""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import re

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from ..cases.statemachine import label as state_label
from ..core import clock, pii
from ..core.extensions import db
from ..identity.models import Person
from . import sms
from .mail import Mail, MailError
from .models import Notice, NoticeSettings

log = logging.getLogger(__name__)
MOBILE = re.compile(r"^1[3-9]\d{9}$")


# --------------------------------------------------------------------------- words


#: Notices sent through `people_alerted`: kind -> (title, body), filled from the params.
ALERTS = {
    "card.issued": (
        _l("电子监察：%(department)s新增监察卡片"),
        _l("%(day)s 电子监察向%(department)s发出黄牌 %(yellow)s 张、红牌 %(red)s 张，请及时处理临近超期和超期办件。"),
    ),
    "card.urged": (
        _l("督办：办件 %(number)s"),
        _l("督办人员已对%(department)s的办件 %(number)s 发出督办，请于 %(due)s 前答复。"),
    ),
    "card.replied": (_l("督办已答复：办件 %(number)s"), _l("%(department)s已答复对办件 %(number)s 的督办，请查看。")),
    "petition.received": (_l("新诉求 %(number)s"), _l("收到新的诉求 %(number)s，请于 %(due)s 前告知诉求人是否受理。")),
    "petition.accepted": (_l("诉求 %(number)s 已受理"), _l("您的诉求 %(number)s 已受理，将于 %(due)s 前办结答复。")),
    "petition.not_accepted": (
        _l("诉求 %(number)s 不予受理"),
        _l("您的诉求 %(number)s 不予受理，理由请在诉求详情中查看。"),
    ),
    "petition.extended": (
        _l("诉求 %(number)s 延期办理"),
        _l("您的诉求 %(number)s 情况复杂，办理期限延长至 %(due)s，延期理由请在诉求详情中查看。"),
    ),
    "petition.answered": (_l("诉求 %(number)s 已答复"), _l("您的诉求 %(number)s 已答复，请查看并评价。")),
    "bundle.member_failed": (
        _l("“%(bundle)s”中的“%(item)s”未能办理"),
        _l("%(reason)s。其他事项不受影响，继续办理；请在“一件事”办理进度中查看。"),
    ),
}


#: (title, body) of each case transition's notice, translated when rendered (only the one needed)
CASE_WORDS = {
    "submit": (_l("办件 %(number)s 已提交"), _l("您申请的“%(item)s”已提交，等待综合窗口受理。")),
    "accept": (_l("办件 %(number)s 已受理"), _l("您申请的“%(item)s”已受理，承诺于 %(deadline)s 前办结。")),
    "request_supplement": (
        _l("办件 %(number)s 需要补正材料"),
        _l("您申请的“%(item)s”需要补正材料，请在办件详情中查看一次性告知书并按要求补正。"),
    ),
    "return_for_supplement": (
        _l("办件 %(number)s 需要补正材料"),
        _l("您申请的“%(item)s”需要补正材料，请在办件详情中查看一次性告知书并按要求补正。"),
    ),
    "resubmit": (_l("办件 %(number)s 补正材料已提交"), _l("您已为“%(item)s”提交补正材料，等待综合窗口核验。")),
    "not_accept": (_l("办件 %(number)s 不予受理"), _l("您申请的“%(item)s”不予受理。%(note)s")),
    "withdraw": (_l("办件 %(number)s 已撤回"), _l("您申请的“%(item)s”已撤回。")),
    "lapse": (
        _l("办件 %(number)s 逾期未补正，视为撤回"),
        _l("您申请的“%(item)s”未在补正期限内补正材料，视为撤回申请。如仍需办理，请重新提交申请。"),
    ),
    "claim": (_l("办件 %(number)s 进入审查"), _l("您申请的“%(item)s”已进入审查。")),
    "approve": (_l("办件 %(number)s 已批准"), _l("您申请的“%(item)s”已批准。")),
    "deny": (_l("办件 %(number)s 不予批准"), _l("您申请的“%(item)s”不予批准。%(note)s")),
    "complete": (_l("办件 %(number)s 已办结"), _l("您申请的“%(item)s”已办结。%(note)s")),
    "hand_over": (_l("办件 %(number)s 办理结果已领取"), _l("您申请的“%(item)s”的办理结果已交付。")),
}
CASE_CHANGED = (_l("办件 %(number)s 办理进度更新"), _l("您申请的“%(item)s”有新的办理进度，当前状态：%(state)s。"))
CERTIFICATE_WORDS = {
    "issue": (_l("您的%(type)s已签发"), _l("您的电子证照“%(type)s”已签发，可在“我的证照”中下载和出示。")),
    "suspend": (
        _l("您的%(type)s已暂停"),
        _l("您的电子证照“%(type)s”已被发证部门暂停，暂停期间不能使用。原因：%(reason)s"),
    ),
    "resume": (_l("您的%(type)s已恢复有效"), _l("您的电子证照“%(type)s”已恢复有效。")),
    "revoke": (
        _l("您的%(type)s已被吊销"),
        _l("您的电子证照“%(type)s”已被发证部门吊销，不能再出示使用。原因：%(reason)s"),
    ),
    "supersede": (
        _l("您的%(type)s已换发新版本"),
        _l("您的电子证照“%(type)s”已换发新版本，旧版本不再有效，请使用新版本。"),
    ),
}
CERTIFICATE_CHANGED = (_l("您的电子证照有变化"), _l("您的电子证照“%(type)s”有变化。"))


def render(notice: Notice) -> tuple[str, str]:
    """(title, body) of a notice, in the current language."""
    p = dict(notice.params or {})
    if notice.kind == "consultation.answered":
        return (_("您的咨询已答复"), _("%(department)s已答复您关于“%(item)s”的咨询，请在办事指南页面查看。", **p))
    if notice.kind in ALERTS:
        title, body = ALERTS[notice.kind]
        return str(title) % p, str(body) % p
    if notice.kind == "certificate.expiring":
        return (
            _("您的%(name)s即将到期", name=p.get("name", "")),
            _(
                "您的%(name)s将于 %(expires)s 到期（还有 %(days)s 天）。如需继续使用，请及时办理延续或换证。",
                name=p.get("name", ""),
                expires=p.get("expires", ""),
                days=p.get("days", ""),
            ),
        )
    if notice.kind.startswith("certificate."):
        return _certificate_words(notice.kind.split(".", 1)[1], p)
    action = notice.kind.split(".", 1)[1] if notice.kind.startswith("case.") else ""
    words = {
        "number": p.get("number", ""),
        "item": p.get("item", ""),
        "deadline": p.get("deadline", ""),
        "note": p.get("note", ""),
        "state": state_label(p.get("state", "")),
    }
    title, body = CASE_WORDS.get(action, CASE_CHANGED)
    return str(title) % words, (str(body) % words).strip()


def _certificate_words(action: str, p: dict) -> tuple[str, str]:
    words = {"type": p.get("type", ""), "reason": p.get("reason", "")}
    title, body = CERTIFICATE_WORDS.get(action, CERTIFICATE_CHANGED)
    return str(title) % words, (str(body) % words).strip()


class _Words:
    """What a notice says by SMS and by e-mail (in Chinese), worked out once for both channels,
    and only when one of them sends: its title and body, the recipient's masked name, its link."""

    def __init__(self, notice: Notice):
        self.notice = notice

    @functools.cached_property
    def rendered(self) -> tuple[str, str]:
        with force_locale("zh_Hans_CN"):
            return render(self.notice)

    @functools.cached_property
    def name(self) -> str:
        return pii.mask_name(self.notice.recipient.name)

    @property
    def link(self) -> str:
        return current_app.config["PUBLIC_URL"] + (self.notice.url or "")


# --------------------------------------------------------------------------- SMS


def phone_for(person: Person, settings: NoticeSettings | None) -> str | None:
    """The phone SMS notices go to: the one the person gave in 通知设置, else their login's."""
    return (settings.phone if settings is not None else None) or person.phone


def deliver_sms(notice_id: int) -> str | None:
    """Send (or, in development, record) the notice's SMS; records and returns the outcome."""
    notice = db.session.get(Notice, notice_id)
    if notice is None:
        return None
    status = _sms(notice, db.session.get(NoticeSettings, notice.recipient_id), _Words(notice))
    db.session.commit()
    return status


def _sms(notice: Notice, settings: NoticeSettings | None, words: _Words) -> str:
    """The SMS sent (or recorded) and its outcome set on the notice, for the caller to commit."""
    gateway = current_app.extensions["sms_gateway"]
    phone = phone_for(notice.recipient, settings)
    message_id = None
    if settings is not None and not settings.sms_enabled:
        status = "off"
    elif not phone or not MOBILE.match(phone):
        status = "no_phone"
    else:
        _title, body = words.rendered
        text = f"{current_app.config.get('SMS_SIGNATURE', '')}{words.name}，{body} {words.link}"
        try:
            sent = gateway.send(phone, text, f"notice-{notice.id}")
            status, message_id = sent.status, sent.id
        except sms.SmsError as exc:
            log.warning("SMS for notice %s not sent: %s", notice.id, exc)
            status = "failed"
    notice.sms_status, notice.sms_id, notice.sms_at = status, message_id, clock.now()
    return status


def record_sms_status(body: bytes, signature: str) -> bool:
    """The gateway's delivery report (signed with the gateway key); False when it is not
    authentic or names no notice of ours. A report never moves a notice back from delivered."""
    key = current_app.config.get("SMS_GATEWAY_KEY", "")
    expected = hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    if not key or not hmac.compare_digest(expected, (signature or "").strip().lower()):
        return False
    try:
        report = json.loads(body)
        message_id, status = str(report["id"])[:64], report["status"]
    except (ValueError, KeyError, TypeError):
        return False
    if status not in ("delivered", "failed"):
        return False
    result = db.session.execute(
        update(Notice)
        .where(Notice.sms_id == message_id, Notice.sms_status != "delivered")
        .values(sms_status=status, sms_at=clock.now())
    )
    db.session.commit()
    return result.rowcount == 1


# --------------------------------------------------------------------------- e-mail


def deliver(notice_id: int) -> dict:
    """The notice's e-mail, then its SMS, read once and recorded in one commit. A channel that
    breaks does not keep the other from going out: its error is raised once both were tried and
    what was done is recorded."""
    notice = db.session.get(Notice, notice_id, options=[joinedload(Notice.recipient)])
    if notice is None:
        return {}
    outcome, error = _send(notice, db.session.get(NoticeSettings, notice.recipient_id))
    db.session.commit()
    if error is not None:
        raise error
    return outcome


#: Notices taken by one transaction of `deliver_queued`: their rows stay locked while they are sent.
BATCH = 200


def deliver_queued(limit: int = 10_000) -> int:
    """Send the queued notices, oldest first, in batches of `BATCH`, each batch recorded in one
    commit; returns how many were sent. Several workers share the queue without sending a notice
    twice (PostgreSQL: each takes rows the others have not locked). A worker that dies while
    sending leaves its batch queued (its transaction never commits): those are sent again by the
    next run, at least once rather than never."""
    sent = 0
    while sent < limit:
        notices = list(
            db.session.execute(
                select(Notice)
                .where(Notice.queued.is_(True))
                .order_by(Notice.id)
                .limit(min(BATCH, limit - sent))
                .with_for_update(skip_locked=True, of=Notice)
                .options(joinedload(Notice.recipient, innerjoin=True))
            ).scalars()
        )
        if not notices:
            break
        settings = {
            s.person_id: s
            for s in db.session.execute(
                select(NoticeSettings).where(NoticeSettings.person_id.in_({n.recipient_id for n in notices}))
            ).scalars()
        }
        for notice in notices:
            _outcome, error = _send(notice, settings.get(notice.recipient_id))
            if error is not None:  # recorded as failed where the channel knew how; never retried forever
                log.error("notice %s: %s", notice.id, error)
        db.session.commit()
        sent += len(notices)
    return sent


def _send(notice: Notice, settings: NoticeSettings | None) -> tuple[dict, Exception | None]:
    """Both channels tried, the outcome set on the notice (for the caller to commit) and the
    notice off the queue; the first unexpected error is returned, not raised."""
    outcome, error, words = {}, None, _Words(notice)
    for channel, send in (("email", _email), ("sms", _sms)):
        try:
            outcome[channel] = send(notice, settings, words)
        except Exception as exc:
            log.exception("could not deliver the %s of notice %s", channel, notice.id)
            error = error or exc
    notice.queued = False
    return outcome, error


def deliver_email(notice_id: int) -> str | None:
    """Send (or, in development, log) the notice's e-mail; records and returns the outcome."""
    notice = db.session.get(Notice, notice_id)
    if notice is None:
        return None
    status = _email(notice, db.session.get(NoticeSettings, notice.recipient_id), _Words(notice))
    db.session.commit()
    return status


def _email(notice: Notice, settings: NoticeSettings | None, words: _Words) -> str:
    """The e-mail sent (or logged) and its outcome set on the notice, for the caller to commit."""
    mailer = current_app.extensions["mailer"]
    address = settings.email if settings is not None else None
    if settings is not None and not settings.email_enabled:
        status = "off"
    elif not address and mailer.kind != "log":
        status = "no_address"
    else:
        title, body = words.rendered
        mail = Mail(
            current_app.config["MAIL_FROM"],
            address or "(未设置邮箱)",
            title,
            f"{words.name}，您好：\n\n{body}\n\n查看详情：{words.link}\n\n"
            "——一网通办政务服务平台（本邮件由系统自动发送，请勿回复）\n",
        )
        try:
            mailer.send(mail)
            status = "sent" if mailer.kind != "log" else "logged"
        except MailError as exc:
            log.warning("e-mail for notice %s not sent: %s", notice.id, exc)
            status = "failed"
    notice.email_status = status
    notice.emailed_at = clock.now() if status in ("sent", "logged") else None
    return status
