"""Who may see and handle a request (诉求), in the shape of govservice/access: one
function per question, from the person and the object, nothing read from the request."""

from __future__ import annotations

from ..identity.models import Person
from .models import Petition


def can_view(person: Person | None, petition: Petition) -> bool:
    """The requester, the officers of the department it is routed to, the clerk who recorded it,
    and supervision."""
    if person is None:
        return False
    return (
        petition.requester_id == person.id
        or petition.recorded_by_id == person.id
        or person.has_role("supervisor", "admin")
        or "officer" in person.roles(petition.department_id)
    )


def can_handle(person: Person | None, petition: Petition) -> bool:
    """受理, 延期, 答复: an officer of the department it is routed to."""
    return person is not None and "officer" in person.roles(petition.department_id)
