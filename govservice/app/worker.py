"""Celery worker entry point: `celery -A govservice.app.worker worker`."""

from govservice import create_app
from govservice.certificates.tasks import prepare_worker_process

flask_app = create_app()  # not named `app`: `celery -A govservice.app.worker` would take it for the Celery app
celery = flask_app.extensions["celery"]
prepare_worker_process(flask_app)  # before the pool forks: what issuance loads is shared by every child
