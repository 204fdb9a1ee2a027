"""Celery tasks: thin wrappers around a notice's delivery (inline unless a broker is configured)."""

from celery import shared_task

from . import delivery


@shared_task(name="notify.send_email")
def send_email_task(notice_id: int) -> str | None:
    return delivery.deliver_email(notice_id)


@shared_task(name="notify.send_sms")
def send_sms_task(notice_id: int) -> str | None:
    return delivery.deliver_sms(notice_id)


@shared_task(name="notify.deliver")
def deliver_task(notice_id: int) -> dict:
    """Both channels of a notice: one job to queue and run per notice, not one per channel (the
    two above stay for jobs queued before)."""
    return delivery.deliver(notice_id)
