"""notices to e-mail and text are queued in their own row, and a worker sends them in batches

Revision ID: 1000
Revises: 0990
"""

import sqlalchemy as sa
from alembic import op

revision = "1000"
down_revision = "0990"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("queued", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index(
        "ix_notices_queued",
        "notices",
        ["id"],
        postgresql_where=sa.text("queued"),
        sqlite_where=sa.text("queued"),
    )


def downgrade():
    op.drop_index("ix_notices_queued", table_name="notices")
    with op.batch_alter_table("notices") as batch:
        batch.drop_column("queued")
