"""Entry point: `flask --app app run`, `gunicorn app:app`."""

from govservice import create_app

app = create_app()
