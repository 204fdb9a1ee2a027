"""Celery tasks: thin wrappers around certificate services."""
from celery import shared_task

from . import services


@shared_task(name="certificates.issue_for_case")
def issue_for_case_task(case_id: int) -> None:
    services.issue_for_case(case_id)
