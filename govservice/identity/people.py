"""People (自然人) as the platform records them: found by the keyed hash of their ID number,
recorded by number and name before their first sign-in, their name checked against the
population registry. The leaf of the identity package: its other modules build on it.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..core import pii, rowcache
from ..core.extensions import db
from ..registry import services as population
from .idnumbers import InvalidNumber, normalise_id_number
from .models import Person, StaffAssignment

#: The signed-in person with their roles, kept in each process (`core.rowcache`, identity.services.load_user)
PERSON_KEY = "identity.person:"


def watch_people() -> None:
    """A person's or a role's change forgets the person's copy in every process."""
    rowcache.watch(Person, lambda _session, person: {PERSON_KEY + str(person.id)} if person.id else set())
    rowcache.watch(StaffAssignment, lambda _session, role: {PERSON_KEY + str(role.person_id)})


NAME_MAX = 50


def checked_number_and_name(id_number: str, name: str, error: type[Exception], name_message=None) -> tuple[str, str]:
    """The normalised ID number and the trimmed name typed for a person, or `error` with the
    message that says what is wrong (`name_message` for a missing or too long name)."""
    try:
        number = normalise_id_number(id_number)
    except InvalidNumber as exc:
        raise error(exc.message) from None
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise error(name_message or _l("请填写姓名（不超过50个字）。"))
    return number, name


def name_matches(actor: Person | None, number: str, name: str, *, purpose: str) -> bool:
    """Whether `name` is the holder of `number`, before a role or a grant is given by number:
    as the population registry (人口库) says, or, when it does not know the number or does not
    answer, as the platform already knows the person (a person unknown to both is accepted by
    number; their first sign-in brings the name their provider asserts). The look-up is audited
    and committed, whatever follows."""
    try:
        record = population.person(number, actor=actor, purpose=purpose)
    except population.RegistryUnavailable:
        record = None
    finally:
        db.session.commit()
    if record is not None:
        return record.name == name
    known = find_person(number)
    return known is None or known.name == name


def find_person(id_number: str) -> Person | None:
    return db.session.execute(
        select(Person).where(Person.id_number_hash == pii.lookup_hash(id_number))
    ).scalar_one_or_none()


def person_for(id_number: str, name: str) -> Person:
    """The person with this (normalised) ID number, recorded now if not yet known — as at a first
    sign-in, but by number and name only. Flushes; the caller commits."""
    person = find_person(id_number)
    if person is None:
        person = Person(
            id_number_hash=pii.lookup_hash(id_number), id_number_enc=pii.encrypt(id_number), name_enc=pii.encrypt(name)
        )
        db.session.add(person)
        db.session.flush()
    return person
