"""Celery tasks: thin wrappers around a notice's delivery (inline unless a broker is configured)."""

from celery import shared_task

from . import delivery


@shared_task(name="notify.send_email")
def send_email_task(notice_id: int) -> str | None:
    return delivery.deliver_email(notice_id)


@shared_task(name="notify.send_sms")
def send_sms_task(notice_id: int) -> str | None:
    return delivery.deliver_sms(notice_id)
