"""notices by SMS (status, the gateway's id, per-person phone and switch); the index of 热门事项

Revision ID: 08410
Revises: 0710
"""

import sqlalchemy as sa
from alembic import op

revision = "08410"
down_revision = "0710"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("sms_status", sa.String(16), nullable=True))
        batch.add_column(sa.Column("sms_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("sms_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_notices_sms_id", ["sms_id"])
    with op.batch_alter_table("notice_settings") as batch:
        batch.add_column(sa.Column("phone_enc", sa.Text(), nullable=True))
        batch.add_column(sa.Column("sms_enabled", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.create_index("ix_cases_submitted_at_item", "cases", ["submitted_at", "item_id"])


def downgrade():
    op.drop_index("ix_cases_submitted_at_item", table_name="cases")
    with op.batch_alter_table("notice_settings") as batch:
        batch.drop_column("sms_enabled")
        batch.drop_column("phone_enc")
    with op.batch_alter_table("notices") as batch:
        batch.drop_index("ix_notices_sms_id")
        batch.drop_column("sms_at")
        batch.drop_column("sms_id")
        batch.drop_column("sms_status")
