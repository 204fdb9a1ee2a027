"""Celery tasks: thin wrappers around notify services (inline unless a broker is configured)."""

from celery import shared_task

from . import services


@shared_task(name="notify.send_email")
def send_email_task(notice_id: int) -> str | None:
    return services.deliver_email(notice_id)


@shared_task(name="notify.send_sms")
def send_sms_task(notice_id: int) -> str | None:
    return services.deliver_sms(notice_id)
