"""Celery worker entry point: `celery -A govservice.worker worker`."""
from govservice import create_app

app = create_app()
celery = app.extensions["celery"]
