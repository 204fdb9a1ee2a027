"""Who represents an enterprise: the look-ups into the legal-person registry (法人库) that the
identity domain needs, asked of the one registry (`backends.Registry`, the backend that
`registry.services.init_app` chose: development or HTTP) and answered in identity's terms.

`find_enterprise` and `enterprises_represented_by` write the audit entry (actor, purpose) that
every registry look-up needs, in the caller's transaction. A registry that does not answer raises
`RegistryUnavailable` (the backends' own): the caller decides whether that blocks the action.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..audit import services as audit
from ..core import pii
from .backends import RegistryUnavailable, backend  # noqa: F401  (RegistryUnavailable: for callers)
from .records import LegalPersonRecord

#: The registry's status words, as the platform names them.
ACTIVE, DEREGISTERED, REVOKED = "active", "deregistered", "revoked"
STATUS = {"存续": ACTIVE, "注销": DEREGISTERED, "吊销": REVOKED}


@dataclass(frozen=True)
class LegalPerson:
    """One registered enterprise (市场主体), as the identity domain keeps it."""

    uscc: str
    name: str
    legal_representative_id_number: str
    legal_representative_name: str
    status: str  # active (存续) | deregistered (注销) | revoked (吊销)

    @classmethod
    def of(cls, record: LegalPersonRecord) -> LegalPerson:
        return cls(
            record.uscc,
            record.name,
            record.legal_representative_id_number,
            record.legal_representative,
            STATUS.get(record.status, DEREGISTERED),
        )


def find_enterprise(uscc: str, *, actor, purpose: str) -> LegalPerson | None:
    """The registry's record for a credit code; audited (the caller commits)."""
    record = backend().legal_person(uscc, purpose=purpose)
    audit.record(
        "registry.legal_person",
        actor=actor,
        subject=f"enterprise:{uscc}",
        purpose=purpose,
        detail={"found": record is not None},
    )
    return LegalPerson.of(record) if record is not None else None


def enterprises_represented_by(person, *, purpose: str) -> list[LegalPerson]:
    """The enterprises whose legal representative the person is, whatever their status (a
    deregistered one is kept as such); audited (the caller commits)."""
    records = [LegalPerson.of(r) for r in backend().represented_by(person.id_number, purpose=purpose)]
    audit.record(
        "registry.legal_person",
        actor=person,
        subject=f"person:{person.id}",
        purpose=purpose,
        detail={"represented": [r.uscc for r in records], "id_number": pii.mask_id_number(person.id_number)},
    )
    return records
