"""a certificate keeps its OFD rendering (GB/T 33190), made on its first download

Revision ID: 08310
Revises: 0710
"""

import sqlalchemy as sa
from alembic import op

revision = "08310"
down_revision = "0710"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("certificates") as batch:
        batch.add_column(sa.Column("ofd_blob_key", sa.String(255), nullable=True))


def downgrade():
    with op.batch_alter_table("certificates") as batch:
        batch.drop_column("ofd_blob_key")
