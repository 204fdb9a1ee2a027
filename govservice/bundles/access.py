"""Who may see and act on a bundle application, in the shape of govservice/access:
one function per question, from the person and the object, nothing read from the request."""

from __future__ import annotations

from ..identity.models import Person
from .models import BundleApplication


def can_view(person: Person | None, bundle: BundleApplication) -> bool:
    """The applicant, the window, supervision, and the officers of a member case's department."""
    if person is None or not getattr(person, "is_authenticated", True):
        return False
    if bundle.applicant_id == person.id or person.has_role("clerk", "supervisor", "admin"):
        return True
    return any(m.case is not None and "officer" in person.roles(m.case.department_id) for m in bundle.members)


def can_accept(person: Person | None, bundle: BundleApplication) -> bool:
    """受理 at the general window: any clerk (the hall's window takes every department's items)."""
    return person is not None and person.has_role("clerk")
