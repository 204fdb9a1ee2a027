"""merge issue 9's branches: the sealed audit log, lists a page at a time, issuance off the
request's locks, and the hot paths of verification

Revision ID: 0700
Revises: 0610, 0620, 0630, 0640
"""

revision = "0700"
down_revision = ("0610", "0620", "0630", "0640")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
