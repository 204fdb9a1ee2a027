"""issuance in parallel: sequences for serials, one first certificate per case

Certificate serials, generated credit codes and licence numbers come from PostgreSQL
sequences, so issuers never wait for one counter row (SQLite keeps the counters table: it has
one writer anyway). Each sequence starts after the highest value its counters reached, so no
number already printed on a certificate is drawn again. A partial unique index lets a case
have one first certificate only, whoever issues it.

Revision ID: 0630
Revises: 0500
"""

import sqlalchemy as sa
from alembic import op

revision = "0630"
down_revision = "0500"
branch_labels = None
depends_on = None

# sequence -> the counters rows (LIKE pattern) whose values it continues
SEQUENCES = {
    "certificate_serial_seq": "certificate:%",
    "credit_code_serial_seq": "uscc:%",
    "licence_number_seq": "licence:%",
}


def upgrade():
    op.create_index(
        "uq_certificates_first_issue_case_id",
        "certificates",
        ["case_id"],
        unique=True,
        sqlite_where=sa.text("supersedes_id IS NULL"),
        postgresql_where=sa.text("supersedes_id IS NULL"),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    for sequence, counters in SEQUENCES.items():
        op.execute(f"CREATE SEQUENCE {sequence} AS bigint START WITH 1")
        op.execute(
            sa.text(
                f"SELECT setval('{sequence}', COALESCE((SELECT max(value) FROM counters "
                f"WHERE name LIKE :counters), 0) + 1, false)"
            ).bindparams(counters=counters)
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for sequence in SEQUENCES:
            op.execute(f"DROP SEQUENCE {sequence}")
    op.drop_index("uq_certificates_first_issue_case_id", table_name="certificates")
