"""hot paths: queued verifications carry the id they had in the queue

Verifications are pushed onto a Redis list and drained into the table in batches; the unique
`uid` makes a batch drained twice (a drainer that died before trimming the list) insert once.

Revision ID: 0640
Revises: 0500
"""

import sqlalchemy as sa
from alembic import op

revision = "0640"
down_revision = "0500"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("verifications") as batch:
        batch.add_column(sa.Column("uid", sa.String(32), nullable=True))
        batch.create_unique_constraint("uq_verifications_uid", ["uid"])


def downgrade():
    with op.batch_alter_table("verifications") as batch:
        batch.drop_constraint("uq_verifications_uid", type_="unique")
        batch.drop_column("uid")
