"""The application shell, above every domain: what assembles and runs them (the CLI, the demo
data, migrations, Celery and its worker entry point, error pages, template filters, the home
page). `create_app` itself stays in `govservice/__init__.py`.

Nothing in a domain imports from here (import-linter's layer contract in pyproject.toml)."""
