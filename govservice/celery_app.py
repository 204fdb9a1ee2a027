"""Celery, bound to the Flask app (the pattern from Flask's documentation).

Without `CELERY_BROKER_URL` tasks run eagerly in the calling process (the embedded default),
so `make run` needs no worker. With a broker: `celery -A govservice.worker worker`, and
`celery -A govservice.worker beat` for the periodic tasks (the audit sealer, every
AUDIT_SEAL_INTERVAL seconds; embedded, a thread in the app process seals instead).
Tasks are thin wrappers around service functions.
"""
from __future__ import annotations

from celery import Celery, Task
from flask import Flask


def init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    broker = app.config["CELERY_BROKER_URL"]
    celery = Celery(app.name, task_cls=FlaskTask)
    celery.conf.update(
        broker_url=broker or "memory://",
        task_always_eager=not broker,
        task_eager_propagates=True,
        task_ignore_result=True,
        timezone="Asia/Shanghai",
        # every task module, so a worker knows them all (the web imports them only where it queues)
        imports=("govservice.audit.tasks", "govservice.notify.tasks", "govservice.certificates.tasks",
                 "govservice.supervision.tasks"),
        # `celery -A govservice.worker beat`: the audit sealer, often (a run with nothing to seal,
        # or with another sealer at work, returns at once; a run not started in time is dropped).
        beat_schedule={
            "verifications-drain": {  # queued verifications into the log the holder reads
                "task": "certificates.drain_verifications",
                "schedule": 1.0,
                "options": {"expires": 1.0},
            },
            "supervision-cards": {  # 电子监察: yellow and red cards for due-soon, overdue, unanswered ratings
                "task": "supervision.issue_cards",
                "schedule": float(app.config.get("CARD_INTERVAL", 3600)),
                "options": {"expires": float(app.config.get("CARD_INTERVAL", 3600))},
            },
            "certificates-retry": {  # certificates not signed yet (a TSA that did not answer)
                "task": "certificates.retry_pending",
                "schedule": 60.0,
                "options": {"expires": 60.0},
            },
            "audit-seal": {
                "task": "audit.seal",
                "schedule": float(app.config.get("AUDIT_SEAL_INTERVAL", 2)),
                "options": {"expires": float(app.config.get("AUDIT_SEAL_INTERVAL", 2))},
            },
        },
    )
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
