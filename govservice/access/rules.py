"""The rules themselves: pure functions of a person and an object (and a few indexed queries)."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import false, or_, select, true

from ..cases.models import Case, CaseStep
from ..core import clock
from ..core.extensions import db
from ..identity.models import AgentGrant, Enterprise, Person


class Relation(StrEnum):
    """Why someone may see a case; the staff relations are audited when they read."""

    APPLICANT = "applicant"
    REPRESENTATIVE = "legal_representative"
    AGENT = "agent"
    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    WINDOW = "window"

    @property
    def staff(self) -> bool:
        return self in (Relation.OFFICER, Relation.SUPERVISOR, Relation.WINDOW)


def _departments_of(case: Case) -> set[int]:
    return {d for d in [case.department_id, *(s.department_id for s in case.steps)] if d is not None}


def _supervised(person: Person) -> set[int] | None:
    """The departments a supervisor oversees; None: all of them (bound to no department)."""
    bound = [a.department_id for a in person.assignments if a.role == "supervisor"]
    if not bound:
        return set()
    return None if any(d is None for d in bound) else set(bound)


def _clerk_halls(person: Person) -> set[int] | None:
    bound = [a.hall_id for a in person.assignments if a.role == "clerk"]
    if not bound:
        return set()
    return None if any(h is None for h in bound) else set(bound)


def enterprise_relation(person: Person, enterprise_id: int, item_code: str | None = None) -> Relation | None:
    """The person's standing for the enterprise now: its representative, a live agent (whose grant
    covers `item_code` when given), or None."""
    enterprise = db.session.get(Enterprise, enterprise_id)
    if enterprise is None:
        return None
    if enterprise.legal_representative_id == person.id:
        return Relation.REPRESENTATIVE
    now = clock.now()
    grants = db.session.execute(
        select(AgentGrant).where(
            AgentGrant.enterprise_id == enterprise_id,
            AgentGrant.agent_id == person.id,
            AgentGrant.revoked_at.is_(None),
            AgentGrant.valid_until > now,
        )
    ).scalars()
    if any(g.is_active(now) and (item_code is None or g.covers(item_code)) for g in grants):
        return Relation.AGENT
    return None


STAFF_ORDER = (Relation.OFFICER, Relation.SUPERVISOR, Relation.WINDOW)


def case_relation(person: Person | None, case: Case, only: frozenset | None = None) -> Relation | None:
    """Why `person` may see `case`, the closest relation first; None: they may not. `only`: the
    relations that count (a staff console asks for its own: the window for the window's)."""
    if person is None or not getattr(person, "is_authenticated", False):
        return None
    if case.enterprise_id is not None:
        own = enterprise_relation(person, case.enterprise_id, case.item.code)
    else:
        own = Relation.APPLICANT if case.applicant_id == person.id else None
    if own is not None and (only is None or own in only):
        return own
    if not person.assignments:
        return None
    return next((r for r in STAFF_ORDER if (only is None or r in only) and _staff_relation(person, case, r)), None)


def _staff_relation(person: Person, case: Case, relation: Relation) -> bool:
    roles = person.roles()
    if relation is Relation.OFFICER:
        return "officer" in roles and any("officer" in person.roles(d) for d in _departments_of(case))
    if relation is Relation.SUPERVISOR:
        supervised = _supervised(person) if "supervisor" in roles else set()
        return supervised is None or bool(supervised & _departments_of(case))
    if relation is Relation.WINDOW and "clerk" in roles:
        halls = _clerk_halls(person)
        return halls is None or case.hall_id is None or case.hall_id in halls
    return False


def certificate_relation(person: Person | None, certificate) -> Relation | None:
    """The holder (person; or an enterprise's representative or live agent) or an officer of
    the issuing department."""
    if person is None or not getattr(person, "is_authenticated", False):
        return None
    if certificate.holder_enterprise_id is not None:
        relation = enterprise_relation(person, certificate.holder_enterprise_id)
        if relation is not None:
            return relation
    elif certificate.holder_id == person.id:
        return Relation.APPLICANT
    if "officer" in person.roles(certificate.issuer_id):
        return Relation.OFFICER
    return None


def _of_departments(department_ids) -> list:
    """The arms for the cases of these departments: led by one, or with a step of one."""
    return [
        Case.department_id.in_(department_ids),
        Case.id.in_(select(CaseStep.case_id).where(CaseStep.department_id.in_(department_ids))),
    ]


def visible_cases(person: Person, roles: tuple[str, ...] = ("officer", "supervisor", "clerk")):
    """A WHERE clause over `Case` for the staff lists: the cases `person` sees in `roles` (a
    console asks for its own: the window for "clerk"). Each arm is one of the cases table's
    indexed columns, or an indexed sub-select of the steps."""
    arms = []
    officer_of = [
        a.department_id for a in person.assignments if a.role == "officer" and a.department_id and "officer" in roles
    ]
    if officer_of:
        arms += _of_departments(officer_of)
    if "supervisor" in roles and any(a.role == "supervisor" for a in person.assignments):
        supervised = _supervised(person)
        if supervised is None:
            return true()
        arms += _of_departments(supervised)
    if "clerk" in roles and any(a.role == "clerk" for a in person.assignments):
        halls = _clerk_halls(person)
        if halls is None:
            return true()
        arms += [Case.hall_id.is_(None), Case.hall_id.in_(halls)]
    return or_(*arms) if arms else false()


# --- 一件事一次办 and 网上信访 (issue 14): the same relations, for a bundle and a request --------


def bundle_relation(person: Person | None, bundle) -> Relation | None:
    """Why `person` may see a bundle application (一件事): its applicant; the general window (any
    clerk: the hall's window takes every department's bundle, before and after its one
    acceptance); or a staff relation to one of its member cases (the officers of a member's
    department, their supervisors). Administrators, as for cases, see none."""
    if person is None or not getattr(person, "is_authenticated", False):
        return None
    if bundle.applicant_id == person.id:
        return Relation.APPLICANT
    if not person.assignments:
        return None
    if "clerk" in person.roles():
        return Relation.WINDOW
    staff = frozenset({Relation.OFFICER, Relation.SUPERVISOR})
    return next(
        (r for m in bundle.members if m.case is not None and (r := case_relation(person, m.case, staff)) is not None),
        None,
    )


def may_accept_bundle(person: Person | None, bundle) -> bool:
    """受理 of a bundle, once for all its members, at the general window: any clerk."""
    return person is not None and getattr(person, "is_authenticated", False) and "clerk" in person.roles()


def petition_relation(person: Person | None, petition) -> Relation | None:
    """Why `person` may see a request (诉求, 信访事项): its requester; the clerk who recorded it at
    the window; the officers of the department it is routed to; the supervisors of that
    department (one bound to no department oversees all). Administrators see none."""
    if person is None or not getattr(person, "is_authenticated", False):
        return None
    if petition.requester_id == person.id:
        return Relation.APPLICANT
    if not person.assignments:
        return None
    if may_handle_petition(person, petition):
        return Relation.OFFICER
    if "supervisor" in person.roles():
        supervised = _supervised(person)
        if supervised is None or petition.department_id in supervised:
            return Relation.SUPERVISOR
    if petition.recorded_by_id == person.id:
        return Relation.WINDOW
    return None


def may_handle_petition(person: Person | None, petition) -> bool:
    """受理, 不予受理, 延期, 答复: an officer of the department the request is routed to."""
    return (
        person is not None
        and getattr(person, "is_authenticated", False)
        and "officer" in person.roles(petition.department_id)
    )
