"""Signing in (统一身份认证): joining what a provider asserted to one person (一号), linking
providers, recording refusals, signing out everywhere.

The relying-party protocol lives in `relying_party`; these functions receive claims that were
already verified and decide what they mean for the platform. Each commits once.
"""

from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..audit import services as audit
from ..core import pii, rowcache
from ..core.extensions import db
from ..core.models_base import utcnow
from . import enterprises, sessions, staff
from .idnumbers import InvalidNumber, normalise_id_number
from .models import IdentityLink, Person
from .people import PERSON_KEY, find_person, name_matches, person_for  # noqa: F401 (the domain's interface)
from .providers import Provider, ProviderConfigError, load_providers, oidc_client, providers  # noqa: F401

log = logging.getLogger(__name__)

LOGIN, LINK, STEP_UP = "login", "link", "step_up"
AUDIT_ACTIONS = {LOGIN: "identity.sign_in", LINK: "identity.link", STEP_UP: "identity.step_up"}


class LoginRefused(Exception):
    """The provider's answer cannot make a session; `message` says why, in Chinese."""

    def __init__(self, message, reason: str = "refused"):
        super().__init__(str(message))
        self.message = message
        self.reason = reason


def init_app(app) -> None:
    """Kept for create_app's call: sets up the whole identity domain."""
    from . import init_app as init_identity

    init_identity(app)


def sign_in(provider: Provider, claims: dict, *, purpose: str = LOGIN, expected_person_id: int | None = None) -> Person:
    """Find or create the person the claims name, link the provider's subject, audit, commit.

    A provider that sends no ID number, or an invalid one, is refused before anything is
    written: no half-made account. For a link or a step-up (`expected_person_id`), the
    claims must name the person already signed in, or nothing happens.
    """
    raw = claims.get(provider.id_number_claim)
    if not raw:
        raise LoginRefused(_l("身份提供方没有提供身份证号码，无法登录。"), "no_id_number")
    try:
        number = normalise_id_number(str(raw))
    except InvalidNumber as exc:
        raise LoginRefused(
            _l("身份提供方提供的身份证号码无效：%(reason)s", reason=exc.message), "invalid_id_number"
        ) from None
    name = str(claims.get(provider.name_claim) or "").strip()
    if not name:
        raise LoginRefused(_l("身份提供方没有提供姓名，无法登录。"), "no_name")
    subject = claims.get("sub")
    if not subject or not isinstance(subject, str):
        raise LoginRefused(_l("身份提供方的应答缺少用户标识，无法登录。"), "no_subject")
    level = provider.level_of(claims.get(provider.acr_claim))

    person = find_person(number)
    if expected_person_id is not None and (person is None or person.id != expected_person_id):
        raise LoginRefused(_l("您在该身份提供方登录的身份证号码与当前账号不一致，未作任何更改。"), "other_person")
    link = db.session.execute(
        select(IdentityLink).where(IdentityLink.provider == provider.name, IdentityLink.subject == subject)
    ).scalar_one_or_none()
    if link is not None and (person is None or link.person_id != person.id):
        raise LoginRefused(_l("该身份提供方账号已关联到另一个身份证号码，请联系平台管理员。"), "subject_taken")

    if person is None:
        person = Person(
            id_number_hash=pii.lookup_hash(number), id_number_enc=pii.encrypt(number), name_enc=pii.encrypt(name)
        )
        db.session.add(person)
    elif person.name != name:
        person.name_enc = pii.encrypt(name)
    phone = claims.get(provider.phone_claim)
    if phone:
        person.phone_enc = pii.encrypt(str(phone))
    person.level_of_assurance = level
    person.last_login_at = utcnow()
    db.session.flush()

    new_link = link is None
    if new_link:
        link = IdentityLink(person=person, provider=provider.name, subject=subject)
        db.session.add(link)
    link.last_used_at = utcnow()
    roles = None
    if provider.role_claim:
        roles = staff.sync_claimed_roles(person, provider.name, claims.get(provider.role_claim))
    enterprises.refresh_representation(person, purpose="登录时确认法定代表人身份")
    audit.record(
        AUDIT_ACTIONS[purpose],
        actor=person,
        subject=f"person:{person.id}",
        detail={
            "provider": provider.name,
            "level": level,
            "acr": claims.get(provider.acr_claim),
            "new_link": new_link,
            **({"roles": roles} if roles is not None else {}),
        },
    )
    db.session.commit()
    return person


def record_refusal(
    provider_name: str, reason: str, detail: str | None = None, *, actor: Person | None = None, purpose: str = LOGIN
) -> None:
    """Log and audit a sign-in that did not happen (bad answer, cancel, refusal); creates nothing else."""
    log.warning("%s through %s refused: %s %s", purpose, provider_name, reason, detail or "")
    db.session.rollback()  # whatever a refused sign-in may have begun is not kept
    audit.record(
        "identity.sign_in_refused",
        actor=actor,
        subject=f"provider:{provider_name}",
        detail={"reason": reason, "purpose": purpose, "detail": (detail or "")[:300]},
    )
    db.session.commit()


def record_sign_out(person: Person, provider_name: str | None) -> None:
    audit.record("identity.sign_out", actor=person, subject=f"person:{person.id}", detail={"provider": provider_name})
    db.session.commit()


def sign_out_everywhere(person: Person) -> int:
    """End every session of the person, on every device, at once; returns how many ended."""
    ended = sessions.end_all_for(person.id)
    audit.record(
        "identity.sign_out_everywhere", actor=person, subject=f"person:{person.id}", detail={"sessions": ended}
    )
    db.session.commit()
    return ended


def linked_providers(person: Person) -> list[tuple[IdentityLink, Provider | None]]:
    """The person's links, each with the configured provider (None if no longer configured)."""
    configured = providers()
    return [(link, configured.get(link.provider)) for link in sorted(person.links, key=lambda link: link.linked_at)]


def load_user(user_id: str) -> Person | None:
    """The signed-in person, with their staff roles in the same query (every request asks for them),
    kept in the process between requests (`core.rowcache`): a changed person or role is forgotten
    everywhere by the commit that changes it."""
    if not str(user_id).isdigit():
        return None
    return rowcache.get(
        PERSON_KEY + str(int(user_id)),
        lambda: db.session.get(Person, int(user_id), options=[joinedload(Person.assignments)]),
        "assignments",
    )
