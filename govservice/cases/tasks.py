"""Celery tasks: thin wrappers around cases services (the beat schedule in celery_app runs them)."""

from celery import shared_task

from . import lapses


@shared_task(name="cases.lapse_supplements")
def lapse_supplements_task() -> int:
    return lapses.lapse_overdue_supplements()
