"""Loading what a view shows, checked by `rules`, with every staff read in the audit log."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from ..audit import services as audit
from ..cases.models import Attachment, Case, CaseDocument
from ..core.extensions import db
from ..identity.access import AccessRefused
from ..identity.models import Person
from .rules import Relation, bundle_relation, case_relation, certificate_relation, petition_relation

#: the app extension under which the certificates domain registers ``find(identifier)``
CERTIFICATE_FINDER = "access_find_certificate"
REFUSED_CASE = _l("您无权查看该办件。")
REFUSED_CERTIFICATE = _l("您无权查看该证照。")


def _find_case(number) -> Case:
    if not isinstance(number, str) or not number or len(number) > 32:
        raise NotFound()
    case = db.session.execute(select(Case).where(Case.number == number)).scalar_one_or_none()
    if case is None:
        raise NotFound()
    return case


def record_read(
    person: Person, relation: Relation, what: str, case: Case, subject: str | None = None, purpose: str | None = None
) -> None:
    """A staff member's read, in the audit log (the service commits: views never do)."""
    if relation.staff:
        audit.record(
            f"read.{what}",
            actor=person,
            case_id=case.id,
            subject=subject or f"case:{case.number}",
            purpose=purpose,
            detail={"as": relation.value},
        )
        db.session.commit()


def _checked(person: Person, case: Case, only=None) -> Relation:
    relation = case_relation(person, case, only)
    if relation is None:
        raise AccessRefused(REFUSED_CASE, reason=f"case:{case.number}")
    return relation


def case_for(person: Person, number, *, only=None, audit_read: bool = True) -> tuple[Case, Relation]:
    """The case numbered `number` and why `person` may see it (`only` those relations); 404 /
    AccessRefused otherwise. A GET of a staff page reads the case (audited); a POST acting on it
    is audited as its action."""
    case = _find_case(number)
    relation = _checked(person, case, only)
    if audit_read:
        record_read(person, relation, "case", case)
    return case, relation


def attachment_for(person: Person, number, attachment_id: int) -> tuple[Attachment, bytes]:
    """One uploaded material of a case the person may see, decrypted; the read audited."""
    from ..cases import services as cases

    case = _find_case(number)
    relation = _checked(person, case)
    try:
        attachment, data = cases.attachment_for(case, attachment_id)
    except cases.CaseError:
        raise NotFound() from None
    record_read(person, relation, "attachment", case, subject=f"attachment:{attachment.id}")
    return attachment, data


def document_for(person: Person, number, document_id: int) -> tuple[Case, CaseDocument]:
    """A notice of a case the person may see; the read (a print) audited."""
    from ..cases import services as cases

    case = _find_case(number)
    relation = _checked(person, case)
    try:
        document = cases.document_for(case, document_id)
    except cases.CaseError:
        raise NotFound() from None
    record_read(person, relation, "document", case, subject=f"document:{document.id}")
    return case, document


def certificate_for(person: Person, identifier, *, what: str = "certificate"):
    """A certificate the person may see whole (holder, or the issuing department); staff reads audited."""
    certificate = find_certificate(identifier) if isinstance(identifier, str) else None
    if certificate is None:
        raise NotFound()
    relation = certificate_relation(person, certificate)
    if relation is None:
        raise AccessRefused(REFUSED_CERTIFICATE, reason=f"certificate:{certificate.identifier}")
    if relation.staff:
        _audited_read(person, relation, what, f"certificate:{certificate.identifier}", certificate.case_id)
    return certificate, relation


def find_certificate(identifier: str):
    """The certificate of that identifier, or None: the certificates sit above access, so they
    register their look-up at start (``certificates.services.init_app``), as cases.held does."""
    return current_app.extensions[CERTIFICATE_FINDER](identifier)


def bundle_for(person: Person, bundle):
    """A bundle application (一件事), loaded by the caller (None if there is none), if the person
    may see it, and why; 404 otherwise (the ids are a sequence: a refusal must not tell a stranger
    that the bundle exists). A staff read is audited."""
    relation = bundle_relation(person, bundle) if bundle is not None else None
    if relation is None:
        raise NotFound()
    if relation.staff:
        _audited_read(person, relation, "bundle", f"bundle:{bundle.id}")
    return bundle, relation


def petition_for(person: Person, petition, *, audit_read: bool = True):
    """A request (诉求), loaded by the caller (None if there is none), if the person may see it,
    and why; 404 otherwise. A staff member's read (a GET) is audited: the content is the
    requester's own account of their affairs."""
    relation = petition_relation(person, petition) if petition is not None else None
    if relation is None:
        raise NotFound()
    if audit_read and relation.staff:
        _audited_read(person, relation, "petition", f"petition:{petition.number}")
    return petition, relation


def _audited_read(person: Person, relation: Relation, what: str, subject: str, case_id: int | None = None) -> None:
    audit.record(f"read.{what}", actor=person, case_id=case_id, subject=subject, detail={"as": relation.value})
    db.session.commit()
