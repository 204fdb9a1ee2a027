"""certificates.number_hash: the lookup hash of a licence's number (证号), so that a number an
applicant types (变更、延续、注销) is found without decrypting every certificate; existing
certificates are hashed here

Revision ID: 0940
Revises: 0900
"""

import sqlalchemy as sa
from alembic import op

revision = "0940"
down_revision = "0900"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("certificates") as batch:
        batch.add_column(sa.Column("number_hash", sa.String(64), nullable=True))
        batch.create_index("ix_certificates_number_hash", ["number_hash"])
    from flask import current_app

    from govservice.core import pii

    types = current_app.extensions.get("certificate_types", {})
    numbered = {code: t.number_field for code, t in types.items() if t.number_field}
    if not numbered:
        return
    connection = op.get_bind()
    table = sa.table(
        "certificates", sa.column("id"), sa.column("type_code"), sa.column("data_enc"), sa.column("number_hash")
    )
    rows = connection.execute(
        sa.select(table.c.id, table.c.type_code, table.c.data_enc).where(table.c.type_code.in_(list(numbered)))
    ).all()
    for row in rows:
        value = pii.decrypt_json(row.data_enc).get(numbered[row.type_code])
        if value:
            connection.execute(
                table.update().where(table.c.id == row.id).values(number_hash=pii.lookup_hash(str(value)))
            )


def downgrade():
    with op.batch_alter_table("certificates") as batch:
        batch.drop_index("ix_certificates_number_hash")
        batch.drop_column("number_hash")
