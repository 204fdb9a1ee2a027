"""merge the identity, front-office, workflow and certificates branches

The four capabilities were built side by side, each as a branch off 0001; from here on
the history is one line again.

Revision ID: 0500
Revises: 0201, 0301, 0401
"""

revision = "0500"
down_revision = ("0201", "0301", "0401")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
