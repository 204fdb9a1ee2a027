"""case numbers from a sequence on PostgreSQL: a submission no longer waits for the day's counter

Each submission drew the day's counter row in its INSERT and held its lock until its COMMIT had
been flushed, so submissions queued one behind the other (cases.services._case_number). On
PostgreSQL the six digits after the date now come from one sequence, which no one waits for. It
starts after the highest value the day counters reached, so no number given today is given
again (SQLite keeps the counters: it has one writer anyway).

Revision ID: 1010
Revises: 1000
"""

from alembic import op

revision = "1010"
down_revision = "1000"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE SEQUENCE case_number_seq AS bigint START WITH 1")
    op.execute(
        "SELECT setval('case_number_seq', COALESCE((SELECT max(value) FROM counters "
        "WHERE name LIKE 'case:%'), 0) + 1, false)"
    )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    # the day counters go on after the numbers the sequence gave, so none is given twice
    op.execute(
        "INSERT INTO counters (name, value) "
        "SELECT 'case:' || left(number, length(number) - 6), max(right(number, 6)::int) FROM cases "
        "WHERE number IS NOT NULL GROUP BY 1 "
        "ON CONFLICT (name) DO UPDATE SET value = greatest(counters.value, excluded.value)"
    )
    op.execute("DROP SEQUENCE case_number_seq")
