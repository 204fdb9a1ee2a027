"""Celery tasks of supervision: thin wrappers. The beat schedule (celery_app) runs
`supervision.issue_cards` every CARD_INTERVAL seconds; a run issues only the cards not yet
issued (see `cards.issue_cards`), so running it often, or twice at once, is harmless."""

from celery import shared_task

from . import cards


@shared_task(name="supervision.issue_cards")
def issue_cards_task() -> dict:
    report = cards.issue_cards()
    return {"yellow": report.yellow, "red": report.red}
