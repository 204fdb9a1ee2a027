"""Alembic environment: migrates the database the app is configured for."""

from alembic import context
from flask import has_app_context

from govservice import create_app
from govservice.app.models_registry import import_all_models
from govservice.core.extensions import db

import_all_models()


def run() -> None:
    engine = db.engine
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=db.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if has_app_context():
    run()
else:
    with create_app().app_context():
        run()
