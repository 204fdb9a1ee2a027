"""a case remembers the hall whose window filed it (the window that may see it)

Revision ID: 08210
Revises: 0710
"""

import sqlalchemy as sa
from alembic import op

revision = "08210"
down_revision = "0710"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("hall_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_cases_hall_id", "service_halls", ["hall_id"], ["id"])


def downgrade():
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("fk_cases_hall_id", type_="foreignkey")
        batch.drop_column("hall_id")
