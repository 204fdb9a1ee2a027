"""Running the Alembic migrations from inside the app (CLI, tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from govservice.core.config import ROOT


def alembic_config() -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    return cfg


def upgrade(revision: str = "head") -> None:
    """Must be called inside an app context: env.py uses that app's engine."""
    command.upgrade(alembic_config(), revision)
