"""Who represents an enterprise: the look-up into the legal-person registry (法人库) that the
identity domain needs, behind a small interface.

`registry.services.init_app` sets `app.extensions["legal_person_registry"]` to this package's
registry (development or HTTP) behind the two methods of `LegalPersonRegistry`; a test may set a
`DevelopmentRegistry` of its own fictitious enterprises instead. The look-ups themselves go through
`find_enterprise` and `enterprises_represented_by`, which write the audit entry (actor, purpose)
that every registry look-up needs, in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from flask import current_app

from ..audit import services as audit
from ..core import pii

#: The registry's status words, as the platform names them.
ACTIVE, DEREGISTERED, REVOKED = "active", "deregistered", "revoked"


@dataclass(frozen=True)
class LegalPerson:
    """One registered enterprise (市场主体) as the registry describes it."""

    uscc: str
    name: str
    legal_representative_id_number: str
    legal_representative_name: str
    status: str  # active (存续) | deregistered (注销) | revoked (吊销)


class LegalPersonRegistry(Protocol):
    def by_credit_code(self, uscc: str) -> LegalPerson | None: ...

    def represented_by(self, id_number: str) -> list[LegalPerson]: ...


class RegistryUnavailable(Exception):
    """The registry did not answer; callers decide whether that blocks the action."""


DEVELOPMENT_LEGAL_PERSONS = [
    LegalPerson("91110105MA01ABCD26", "北京示例科技有限公司", "110108197802151518", "王五", ACTIVE),
    LegalPerson("91110105MA01EFGH30", "北京朝阳示例餐饮有限公司", "110108197802151518", "王五", ACTIVE),
    LegalPerson("91110105MA01JKLM4R", "北京示例贸易有限公司", "110108197802151518", "王五", DEREGISTERED),
]


class DevelopmentRegistry:
    """Fictitious enterprises for development and tests (the demo people of the development IdP)."""

    def __init__(self, records: list[LegalPerson] | None = None):
        self.records = list(DEVELOPMENT_LEGAL_PERSONS if records is None else records)

    def by_credit_code(self, uscc: str) -> LegalPerson | None:
        return next((r for r in self.records if r.uscc == uscc), None)

    def represented_by(self, id_number: str) -> list[LegalPerson]:
        return [r for r in self.records if r.legal_representative_id_number == id_number]


def registry() -> LegalPersonRegistry:
    found = current_app.extensions.get("legal_person_registry")
    if found is None:
        found = current_app.extensions["legal_person_registry"] = DevelopmentRegistry()
    return found


def find_enterprise(uscc: str, *, actor, purpose: str) -> LegalPerson | None:
    """The registry's record for a credit code; audited (the caller commits)."""
    record = registry().by_credit_code(uscc)
    audit.record(
        "registry.legal_person",
        actor=actor,
        subject=f"enterprise:{uscc}",
        purpose=purpose,
        detail={"found": record is not None},
    )
    return record


def enterprises_represented_by(person, *, purpose: str) -> list[LegalPerson]:
    """The enterprises whose legal representative the person is; audited (the caller commits)."""
    records = registry().represented_by(person.id_number)
    audit.record(
        "registry.legal_person",
        actor=person,
        subject=f"person:{person.id}",
        purpose=purpose,
        detail={"represented": [r.uscc for r in records], "id_number": pii.mask_id_number(person.id_number)},
    )
    return records
