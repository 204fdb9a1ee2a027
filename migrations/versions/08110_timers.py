"""the timers: pending supplements by due date; certificates by expiry, once notified

`cases.tasks.lapse_supplements` walks the unanswered supplement requests by due date and
`certificates.tasks.notify_expiring` the valid certificates not yet told of their expiry, each
on a partial index that holds only what is still to do (never the million done ones).
`certificates.expiry_notified_at` records the notice, so running the timer twice sends one.

Revision ID: 08110
Revises: 0710
"""

import sqlalchemy as sa
from alembic import op

revision = "08110"
down_revision = "0710"
branch_labels = None
depends_on = None

PENDING = "answered_at IS NULL"
TO_NOTIFY = "expiry_notified_at IS NULL AND expires_at IS NOT NULL AND status = 'valid'"


def upgrade():
    with op.batch_alter_table("certificates") as batch:
        batch.add_column(sa.Column("expiry_notified_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_supplement_requests_pending_due",
        "supplement_requests",
        ["due", "id"],
        postgresql_where=sa.text(PENDING),
        sqlite_where=sa.text(PENDING),
    )
    op.create_index(
        "ix_certificates_to_notify_expiry",
        "certificates",
        ["expires_at", "id"],
        postgresql_where=sa.text(TO_NOTIFY),
        sqlite_where=sa.text(TO_NOTIFY),
    )


def downgrade():
    op.drop_index("ix_certificates_to_notify_expiry", table_name="certificates")
    op.drop_index("ix_supplement_requests_pending_due", table_name="supplement_requests")
    with op.batch_alter_table("certificates") as batch:
        batch.drop_column("expiry_notified_at")
