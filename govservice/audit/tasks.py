"""Celery tasks: thin wrappers around the audit sealer. The beat schedule (celery_app) runs
`audit.seal` every AUDIT_SEAL_INTERVAL seconds; a run that finds another sealer at work, or
nothing to seal, returns at once."""

from celery import shared_task

from . import sealer


@shared_task(name="audit.seal")
def seal_task() -> int:
    return sealer.seal().sealed
