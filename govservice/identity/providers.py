"""The OpenID Connect providers the platform trusts, from the TOML file named by
`OIDC_PROVIDERS_FILE` (or, unset, only the development provider), registered with Authlib.

A provider is described by what a relying party needs to know and nothing of how it works
inside: issuer (everything else comes from discovery), client credentials, the scopes to ask
for, which claims carry the ID number, name, phone, level of assurance and staff roles, and
how its `acr` values map to the platform's levels 1-3. The README shows a full example.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from authlib.integrations.flask_client import OAuth
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from flask import Flask, current_app

from ..core.keys import instance_secret
from .client_keys import ALG, client_key

LEVELS = (1, 2, 3)
DEFAULT_ACR_LEVELS = {"1": 1, "2": 2, "3": 3}
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
PRIVATE_KEY_JWT = "private_key_jwt"
AUTH_METHODS = ("client_secret_basic", "client_secret_post", PRIVATE_KEY_JWT)
#: Seconds to wait for a provider before telling the person it cannot be reached.
HTTP_TIMEOUT = 10


class ProviderConfigError(ValueError):
    """The providers file is wrong; raised when the app starts, for the operator to fix."""


@dataclass(frozen=True)
class Provider:
    """One configured OpenID Connect provider and how its claims map to ours."""

    name: str
    title: str
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)  # empty with private_key_jwt
    scope: str = "openid profile phone"
    id_number_claim: str = "id_number"
    name_claim: str = "name"
    phone_claim: str = "phone_number"
    acr_claim: str = "acr"
    acr_levels: dict = field(default_factory=lambda: dict(DEFAULT_ACR_LEVELS))
    #: A claim listing staff roles as "role[:department[:hall]]"; None: roles are kept by an admin.
    role_claim: str | None = None
    token_endpoint_auth_method: str = "client_secret_basic"

    def level_of(self, acr) -> int:
        """The platform's level for the provider's `acr`; unknown or missing is the lowest."""
        return self.acr_levels.get(str(acr), 1) if acr is not None else 1

    def acr_values_for(self, level: int) -> str | None:
        """The `acr_values` to request for at least `level`, weakest sufficient first; None if none."""
        values = sorted((lv, acr) for acr, lv in self.acr_levels.items() if lv >= level)
        return " ".join(acr for _, acr in values) or None

    @property
    def max_level(self) -> int:
        return max(self.acr_levels.values(), default=1)


KNOWN_KEYS = {
    "title",
    "issuer",
    "client_id",
    "client_secret",
    "client_secret_env",
    "scope",
    "id_number_claim",
    "name_claim",
    "phone_claim",
    "acr_claim",
    "acr_levels",
    "role_claim",
    "token_endpoint_auth_method",
}


def load_providers(app: Flask) -> list[Provider]:
    path = app.config.get("OIDC_PROVIDERS_FILE")
    if not path:
        return [
            Provider(
                name="devidp",
                title="开发用身份提供方",
                issuer=app.config["DEV_IDP_URL"],
                client_id="govservice",
                client_secret=instance_secret(
                    app.config["INSTANCE_DIR"], "devidp_client_secret", "DEV_IDP_CLIENT_SECRET"
                ),
            )
        ]
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ProviderConfigError(f"OIDC_PROVIDERS_FILE {path}: {exc}") from None
    specs = data.get("providers")
    if not isinstance(specs, dict) or not specs:
        raise ProviderConfigError(f"{path}: no [providers.<name>] table")
    return [parse_provider(name, spec, path) for name, spec in specs.items()]


def parse_provider(name: str, spec: dict, where: str = "providers") -> Provider:
    """One `[providers.<name>]` table, checked so that a mistake stops the start, not a login."""

    def fail(message):
        raise ProviderConfigError(f"{where}: provider {name!r}: {message}")

    if not NAME.match(name):
        fail("the name must be 1-32 lowercase letters, digits, '-' or '_'")
    unknown = set(spec) - KNOWN_KEYS
    if unknown:
        fail(f"unknown keys {sorted(unknown)}")
    for key in ("title", "issuer", "client_id"):
        if not isinstance(spec.get(key), str) or not spec[key].strip():
            fail(f"'{key}' is required")
    values = {k: v for k, v in spec.items() if k in KNOWN_KEYS - {"client_secret_env"}}
    if "client_secret_env" in spec:
        values["client_secret"] = os.environ.get(spec["client_secret_env"], "")
    method = values.get("token_endpoint_auth_method", "client_secret_basic")
    if method not in AUTH_METHODS:
        fail("'token_endpoint_auth_method' is " + ", ".join(AUTH_METHODS))
    if method == PRIVATE_KEY_JWT:
        values.setdefault("client_secret", "")  # the platform's key signs instead (client_keys.py)
    elif not values.get("client_secret"):
        fail("'client_secret' (or 'client_secret_env' naming a set variable) is required")
    issuer = values["issuer"] = spec["issuer"].rstrip("/")
    parts = urlsplit(issuer)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        fail("the issuer must be an https:// URL (http:// only on a loopback host, for development)")
    if "openid" not in values.get("scope", "openid").split():
        fail("'scope' must include openid")
    levels = spec.get("acr_levels", DEFAULT_ACR_LEVELS)
    if not isinstance(levels, dict) or not levels or any(lv not in LEVELS for lv in levels.values()):
        fail("'acr_levels' maps the provider's acr values to levels 1, 2 or 3")
    values["acr_levels"] = {str(k): int(v) for k, v in levels.items()}
    return Provider(name=name, **values)


def init_app(app: Flask) -> None:
    providers = load_providers(app)
    app.extensions["oidc_providers"] = {p.name: p for p in providers}
    oauth = OAuth(app)  # one registry per app: each app (and test) has its own provider set
    for p in providers:
        credentials = {"client_secret": p.client_secret}
        if p.token_endpoint_auth_method == PRIVATE_KEY_JWT:  # RFC 7523: a JWT signed with our key, no secret
            key = client_key(app)
            credentials = {
                "client_secret": key,
                "client_auth_methods": [PrivateKeyJWT(alg=ALG, headers={"kid": key.kid})],
            }
        oauth.register(
            p.name,
            client_id=p.client_id,
            server_metadata_url=f"{p.issuer}/.well-known/openid-configuration",
            client_kwargs={
                "scope": p.scope,
                "code_challenge_method": "S256",
                "token_endpoint_auth_method": p.token_endpoint_auth_method,
                "default_timeout": HTTP_TIMEOUT,
            },
            **credentials,
        )


def providers() -> dict[str, Provider]:
    return current_app.extensions["oidc_providers"]


def oidc_client(name: str):
    return current_app.extensions["authlib.integrations.flask_client"].create_client(name)
