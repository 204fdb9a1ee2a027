"""Serials for certificates and the numbers printed on them, drawn without waiting for anyone.

Issuance draws its numbers (the certificate's serial, and for some types a generated credit
code or licence number) before the PDF is rendered, since they are printed on it, and must not
hold a lock while it renders and signs:

* PostgreSQL: one SEQUENCE per kind of number (migration 0630). ``nextval`` waits for no other
  transaction and is never rolled back, so a number drawn by an issuance that then failed, or
  lost a race for its case, is skipped: serials have gaps, and since one sequence serves every
  certificate type and issuer, the serials of one type are increasing but not consecutive.
  Neither matters: a serial only has to be unique within its type and issuer (GB/T 36904).
* SQLite (embedded, one writer at a time anyway): the gap-free ``counters`` row of the name,
  incremented by one UPDATE (read and written under SQLite's write lock, so two processes
  never draw the same value), which the caller commits at once, before rendering (see
  ``issuance.leave_transaction``).
"""

from __future__ import annotations

from sqlalchemy import func, select

from ..core.counters import next_value
from ..core.extensions import db

#: kind of number -> its PostgreSQL sequence (created by migration 0630)
SEQUENCES = {
    "certificate": "certificate_serial_seq",
    "credit_code": "credit_code_serial_seq",
    "licence": "licence_number_seq",
}


def uses_sequences() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def next_serial(kind: str, counter: str) -> int:
    """The next number of ``kind`` (a key of SEQUENCES); ``counter`` names the counters row
    used where there are no sequences (SQLite), e.g. ``certificate:<type>:<issuer>``."""
    sequence = SEQUENCES[kind]
    if uses_sequences():
        return db.session.execute(select(func.nextval(sequence))).scalar_one()
    return next_value(counter)
