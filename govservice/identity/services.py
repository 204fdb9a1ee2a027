"""Signing in through OpenID Connect providers and joining identities to one person (一号)."""
from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from sqlalchemy import select

from .. import pii
from ..audit import services as audit
from ..extensions import db
from ..keys import instance_secret
from ..models_base import utcnow
from .idnumbers import InvalidNumber, normalise_id_number
from .models import IdentityLink, Person

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Provider:
    """One configured OpenID Connect provider and how its claims map to ours."""

    name: str
    title: str
    issuer: str
    client_id: str
    client_secret: str
    scope: str = "openid profile phone"
    id_number_claim: str = "id_number"
    name_claim: str = "name"
    phone_claim: str = "phone_number"
    acr_levels: dict = field(default_factory=lambda: {"1": 1, "2": 2, "3": 3})


class LoginRefused(Exception):
    """The provider's answer cannot make a session; `message` says why, in Chinese."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def load_providers(app: Flask) -> list[Provider]:
    path = app.config["OIDC_PROVIDERS_FILE"]
    if not path:
        return [Provider(
            name="devidp", title="开发用身份提供方", issuer=app.config["DEV_IDP_URL"], client_id="govservice",
            client_secret=instance_secret(app.config["INSTANCE_DIR"], "devidp_client_secret", "DEV_IDP_CLIENT_SECRET"),
        )]
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    return [Provider(name=name, **spec) for name, spec in data.get("providers", {}).items()]


def init_app(app: Flask) -> None:
    providers = load_providers(app)
    app.extensions["oidc_providers"] = {p.name: p for p in providers}
    oauth = OAuth(app)  # one registry per app: each app (and test) has its own provider set
    for p in providers:
        oauth.register(
            p.name,
            client_id=p.client_id,
            client_secret=p.client_secret,
            server_metadata_url=f"{p.issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": p.scope, "code_challenge_method": "S256"},
        )


def providers() -> dict[str, Provider]:
    return current_app.extensions["oidc_providers"]


def oidc_client(name: str):
    return current_app.extensions["authlib.integrations.flask_client"].create_client(name)


def sign_in(provider: Provider, claims: dict) -> Person:
    """Find or create the person the claims name, link the provider's subject, audit, commit.

    A provider that sends no ID number, or an invalid one, is refused before anything is
    written: no half-made account.
    """
    raw = claims.get(provider.id_number_claim)
    if not raw:
        raise LoginRefused("身份提供方没有提供身份证号码，无法登录。")
    try:
        number = normalise_id_number(str(raw))
    except InvalidNumber as exc:
        raise LoginRefused(f"身份提供方提供的身份证号码无效：{exc.message}") from None
    name = (claims.get(provider.name_claim) or "").strip()
    if not name:
        raise LoginRefused("身份提供方没有提供姓名，无法登录。")
    level = provider.acr_levels.get(str(claims.get("acr", "")), 1)

    person = find_person(number)
    if person is None:
        person = Person(id_number_hash=pii.lookup_hash(number), id_number_enc=pii.encrypt(number),
                        name_enc=pii.encrypt(name))
        db.session.add(person)
    elif person.name != name:
        person.name_enc = pii.encrypt(name)
    phone = claims.get(provider.phone_claim)
    if phone:
        person.phone_enc = pii.encrypt(str(phone))
    person.level_of_assurance = level
    person.last_login_at = utcnow()
    db.session.flush()

    link = db.session.execute(select(IdentityLink).where(
        IdentityLink.provider == provider.name, IdentityLink.subject == claims["sub"])).scalar_one_or_none()
    if link is None:
        link = IdentityLink(person=person, provider=provider.name, subject=claims["sub"])
        db.session.add(link)
    elif link.person_id != person.id:
        raise LoginRefused("该身份提供方账号已关联到另一个身份证号码，请联系管理员。")
    link.last_used_at = utcnow()
    audit.record("identity.sign_in", actor=person, subject=f"person:{person.id}",
                 detail={"provider": provider.name, "level": level})
    db.session.commit()
    return person


def find_person(id_number: str) -> Person | None:
    return db.session.execute(
        select(Person).where(Person.id_number_hash == pii.lookup_hash(id_number))).scalar_one_or_none()


def load_user(user_id: str) -> Person | None:
    return db.session.get(Person, int(user_id))
