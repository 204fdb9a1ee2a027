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
    """Both channels of one notice (the three per-notice jobs stay for jobs queued before the
    queue of notices, `deliver_queued`, took their place)."""
    return delivery.deliver(notice_id)


@shared_task(name="notify.deliver_queued")
def deliver_queued_task() -> int:
    """The queue of notices to send, in batches (beat, every second): the web queues nothing."""
    return delivery.deliver_queued()
