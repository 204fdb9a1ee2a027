"""Celery worker entry point: `celery -A govservice.worker worker`."""
from govservice import create_app
from govservice.certificates.tasks import prepare_worker_process

app = create_app()
celery = app.extensions["celery"]
prepare_worker_process(app)  # before the pool forks: what issuance loads is shared by every child
