"""Celery, bound to the Flask app (the pattern from Flask's documentation).

Without `CELERY_BROKER_URL` tasks run eagerly in the calling process (the embedded default),
so `make run` needs no worker. With a broker: `celery -A govservice.app.worker worker`, and
`celery -A govservice.app.worker beat` for the periodic tasks below (the timers). Embedded, without a
broker, `flask govservice tick` runs every task of the schedule once (from cron, say every five
minutes); each is idempotent, so running one early, late or twice does nothing more.
Tasks are thin wrappers around service functions.
"""

from __future__ import annotations

from celery import Celery, Task
from celery.schedules import crontab
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
        task_default_queue=app.config.get("CELERY_QUEUE") or "celery",
        # a broker that does not answer fails the request that queues (503) in about a second,
        # instead of holding it through kombu's default retries
        broker_connection_timeout=1.0,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2},
        timezone="Asia/Shanghai",
        # every task module, so a worker knows them all (the web imports them only where it queues)
        imports=(
            "govservice.audit.tasks",
            "govservice.notify.tasks",
            "govservice.certificates.tasks",
            "govservice.supervision.tasks",
            "govservice.cases.tasks",
            "govservice.identity.tasks",
        ),
        # `celery -A govservice.app.worker beat`: the audit sealer, often (a run with nothing to seal,
        # or with another sealer at work, returns at once; a run not started in time is dropped).
        beat_schedule={
            "verifications-drain": {  # queued verifications into the log the holder reads
                "task": "certificates.drain_verifications",
                "schedule": 1.0,
                "options": {"expires": 1.0},
            },
            "notices-deliver": {  # notices to e-mail and text, queued in their rows by the web
                "task": "notify.deliver_queued",
                "schedule": 1.0,
                "options": {"expires": 1.0},
            },
            "supervision-cards": {  # 电子监察: yellow and red cards for due-soon, overdue, unanswered ratings
                "task": "supervision.issue_cards",
                "schedule": float(app.config.get("CARD_INTERVAL", 3600)),
                "options": {"expires": float(app.config.get("CARD_INTERVAL", 3600))},
            },
            # approved cases without their certificate yet: a TSA that did not answer, a broker that
            # was down at the approval, a lost task
            "certificates-retry": {
                "task": "certificates.retry_pending",
                "schedule": 60.0,
                "options": {"expires": 60.0},
            },
            "audit-seal": {
                "task": "audit.seal",
                "schedule": float(app.config.get("AUDIT_SEAL_INTERVAL", 2)),
                "options": {"expires": float(app.config.get("AUDIT_SEAL_INTERVAL", 2))},
            },
            # 补正逾期: a supplement past its date lapses (the case is deemed withdrawn, the
            # applicant told). Dates are Beijing days: a few minutes past each hour is soon enough.
            "supplements-lapse": {"task": "cases.lapse_supplements", "schedule": crontab(minute="5")},
            # 到期提醒: holders of certificates expiring within EXPIRY_NOTICE_DAYS, each told once.
            "certificates-expiring": {"task": "certificates.notify_expiring", "schedule": crontab(minute="15")},
            # ended sessions out of the database store (Redis expires its own)
            "sessions-purge": {"task": "identity.purge_sessions", "schedule": 900.0, "options": {"expires": 900.0}},
        },
    )
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
