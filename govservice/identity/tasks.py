"""Celery tasks: thin wrappers around identity services (the beat schedule in celery_app runs them)."""

from celery import shared_task

from ..core import clock
from . import sessions


@shared_task(name="identity.purge_sessions")
def purge_sessions_task() -> int:
    """Delete the ended sessions from the database store (Redis expires its own keys)."""
    return sessions.store().purge(clock.now())
