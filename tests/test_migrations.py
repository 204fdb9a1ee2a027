"""The schema comes only from Alembic: the migrations and the models must agree."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from govservice.core.extensions import db


def test_the_migrated_database_matches_the_models(ctx):
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert diff == []


def test_the_demo_command_is_idempotent(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["govservice", "demo"])
    from govservice.catalog.definitions import NOT_ITEMS
    from govservice.catalog.services import ITEMS_DIR

    items = len([p for p in ITEMS_DIR.glob("*.toml") if p.name not in NOT_ITEMS])
    assert result.exit_code == 0 and f"0 added, 0 updated, {items} unchanged" in result.output
    assert "staff:" not in result.output
    listed = runner.invoke(args=["govservice", "catalog", "list"])
    assert "scjgj-gtgsh-sldj\t个体工商户设立登记\t市场监督管理局" in listed.output
