"""merge the branches of issues 10 to 14: timers and operations, security and privacy,
certificates other systems accept, the front of house, and the other channels

Revision ID: 0900
Revises: 08110, 08210, 08310, 08410, 08540
"""

revision = "0900"
down_revision = ("08110", "08210", "08310", "08410", "08540")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
