"""Celery, bound to the Flask app (the pattern from Flask's documentation).

Without `CELERY_BROKER_URL` tasks run eagerly in the calling process (the embedded default),
so `make run` needs no worker. With a broker: `celery -A govservice.worker worker`.
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
    )
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
