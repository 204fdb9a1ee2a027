"""merge the branches of the third round: certificate number look-ups (issue 13) and kiosk
terminals (issue 14)

Revision ID: 0990
Revises: 0940, 0950
"""

revision = "0990"
down_revision = ("0940", "0950")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
