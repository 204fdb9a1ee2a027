"""The OAuth 2.0 authorization server for partner systems (Authlib's server side).

Partner departments' systems are confidential clients registered by an administrator with
their scopes. They obtain a bearer token with the client credentials grant at
``/oauth/token`` (HTTP Basic or form authentication) and call ``/api/v1``. Tokens are opaque,
live ``PARTNER_TOKEN_LIFETIME`` seconds, and are stored as hashes only.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from flask import Flask, current_app, has_request_context, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..audit import services as audit
from ..certificates.verification import Guard
from ..core import clock
from ..core.extensions import db
from ..core.pagination import offset
from ..identity.models import Person
from . import tokencache
from .models import SCOPES, PartnerClient, PartnerToken, secret_hash


class PartnerError(Exception):
    """A refusal (Chinese message); nothing was changed."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class ApiError(Exception):
    """An API refusal: ``error`` is the machine-readable code, ``message`` the Chinese text."""

    def __init__(self, error: str, message, status: int, headers: dict | None = None):
        super().__init__(error)
        self.error, self.message, self.status, self.headers = error, str(message), status, headers or {}


# --------------------------------------------------------------------------- the authorization server


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


def query_client(client_id):
    if not isinstance(client_id, str) or not client_id or len(client_id) > 64:
        return None
    return db.session.execute(select(PartnerClient).where(PartnerClient.client_id == client_id)).scalar_one_or_none()


def save_token(token: dict, oauth_request) -> None:
    client = oauth_request.client
    now = clock.now()
    db.session.add(
        PartnerToken(
            client_pk=client.id,
            token_hash=secret_hash(token["access_token"]),
            scope=token.get("scope") or "",
            issued_at=now,
            expires_at=now + timedelta(seconds=int(token.get("expires_in") or 0)),
        )
    )
    audit.record("partner.token", subject=f"partner:{client.client_id}", detail={"scope": token.get("scope")})
    db.session.commit()


class PartnerTokenValidator(BearerTokenValidator):
    def authenticate_token(self, token_string):
        """The token with its client, read once per request (the rate-limit key and the scope
        check both ask): the row, or for `authenticate(..., cached=True)` the remembered copy."""
        if not token_string or len(token_string) > 256:
            return None
        memo = request.environ.setdefault("govservice.partner_tokens", {}) if has_request_context() else {}
        if token_string not in memo:
            cached = has_request_context() and request.environ.get("govservice.partner_token_cache", False)
            memo[token_string] = _read_token(secret_hash(token_string), cached and tokencache.enabled())
        return memo[token_string]


def _read_token(digest: str, cached: bool):
    def row():
        return db.session.execute(
            select(PartnerToken).options(joinedload(PartnerToken.client)).where(PartnerToken.token_hash == digest)
        ).scalar_one_or_none()

    if not cached:
        return row()
    view = tokencache.get(digest)
    if view is not None:
        return view
    generation = tokencache.generation()  # read before the row: see tokencache.remember
    token = row()
    if token is None or generation is None:
        return token
    return tokencache.remember(digest, token, generation)


require_oauth = ResourceProtector()
require_oauth.register_token_validator(PartnerTokenValidator())


def init_app(app: Flask) -> None:
    app.config["OAUTH2_SCOPES_SUPPORTED"] = list(SCOPES)
    app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"client_credentials": app.config["PARTNER_TOKEN_LIFETIME"]}
    server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
    server.register_grant(ClientCredentialsGrant)
    app.extensions["partner_oauth"] = server
    tokencache.init_app(app)


def claimed_client_id() -> str:
    """The client id a token request names (not yet authenticated)."""
    auth = request.authorization
    if auth is not None and auth.type == "basic" and auth.username:
        return auth.username[:64]
    return (request.form.get("client_id") or "")[:64]


def token_response():
    """The token endpoint: Authlib answers; refusals are audited."""
    response = current_app.extensions["partner_oauth"].create_token_response()
    if response.status_code != 200:
        error = (response.get_json(silent=True) or {}).get("error", "invalid_request")
        audit.record("partner.token_refused", detail={"client": claimed_client_id(), "error": error})
        db.session.commit()
    return response


# --------------------------------------------------------------------------- protecting the API

MESSAGES = {
    "missing_authorization": _l("请在 Authorization 头中提供访问令牌（Bearer）。"),
    "invalid_token": _l("访问令牌无效、已过期或已被撤销，请重新获取。"),
    "unsupported_token_type": _l("只接受 Bearer 访问令牌。"),
}


def authenticate(scope: str, *, cached: bool = False, before_refusal=None):
    """The client behind the request's bearer token, if it has ``scope``; else ApiError (audited,
    after `before_refusal()`, e.g. a rate limit that must come first).

    With `cached`, the token may come from this process's memory (`tokencache`): the answer is
    then a `tokencache.ClientView`, and the caller must hold its work to `credentials_guard()`."""
    if cached:
        request.environ["govservice.partner_token_cache"] = True
        view = remembered(request.headers.get("Authorization", ""), scope)
        if view is not None:
            request.environ["govservice.partner_token"] = view
            return view.client
    try:
        token = require_oauth.acquire_token([scope])
    except OAuth2Error as error:
        if before_refusal is not None:
            before_refusal()
        client = request_client()
        if error.error == "insufficient_scope":
            message = _("贵单位的系统没有此项权限（需要 %(scope)s）。", scope=scope)
        else:
            message = str(MESSAGES.get(error.error, MESSAGES["invalid_token"]))
        audit.record(
            "partner.refused",
            subject=f"partner:{client.client_id}" if client else None,
            detail={"error": error.error, "scope": scope, "path": request.path},
        )
        db.session.commit()
        raise ApiError(error.error, message, error.status_code, dict(error.get_headers())) from None
    request.environ["govservice.partner_token"] = token
    return token.client


def remembered(authorization: str, scope: str, app: Flask | None = None) -> tokencache.TokenView | None:
    """The remembered token of an Authorization header, when it passes every check Authlib's
    validator makes (a bearer token, not expired, not revoked, with `scope`); None sends the
    request through Authlib, which also words every refusal. The verify API's hot path skips
    building Authlib's request object for a token this process already knows (and names the
    `app`: it runs outside the app's context)."""
    kind, _sep, value = authorization.partition(" ")
    if kind.lower() != "bearer" or not value or len(value) > 256:
        return None
    app = app if app is not None else current_app._get_current_object()
    if not tokencache.enabled(app):
        return None
    view = tokencache.get(secret_hash(value), app)
    if view is None or view.is_revoked() or scope not in view.scopes:
        return None
    if view.is_expired(clock.now(app)):
        return None
    return view


def credentials_guard():
    """For a request authenticated from memory: the `verification.Guard` that the credentials it
    used are still current; None when they were read from the database."""
    return guard_of(request.environ.get("govservice.partner_token"))


def guard_of(token) -> Guard | None:
    """The guard of a token remembered in memory (`tokencache.TokenView`); None for a row."""
    return Guard(tokencache.GENERATION, token.generation) if isinstance(token, tokencache.TokenView) else None


def reauthenticate(scope: str):
    """After the guard failed: forget remembered tokens and authenticate from the database."""
    tokencache.forget()
    request.environ.pop("govservice.partner_tokens", None)
    request.environ.pop("govservice.partner_token_cache", None)
    return authenticate(scope)


def request_client() -> PartnerClient | None:
    """The client whose bearer token the request carries (valid or not); the token is read once
    per request (`PartnerTokenValidator.authenticate_token`)."""
    kind, _sep, value = request.headers.get("Authorization", "").partition(" ")
    if kind.lower() != "bearer" or not value:
        return None
    token = PartnerTokenValidator().authenticate_token(value.strip())
    return token.client if token is not None else None


def rate_limit_key() -> str:
    """API calls are counted per client; calls without a known token per address."""
    client = request_client()
    return f"partner:{client.client_id}" if client is not None else f"ip:{get_remote_address()}"


def token_rate_limit_key() -> str:
    """Token requests per claimed client and address: a stranger naming a client cannot use up its quota."""
    return f"token:{claimed_client_id()}:{get_remote_address()}"


def token_failure_key() -> str:
    """Refused token requests per address, whichever client ids it claims (guessing is slowed
    down at the guesser's address only)."""
    return f"token-refused:{get_remote_address()}"


def token_client_key() -> str:
    """Issued tokens per client, counted only when the request authenticated."""
    return f"token-issued:{claimed_client_id()}"


# --------------------------------------------------------------------------- registration (administrators)


def _check_admin(actor: Person | None) -> None:
    # None is the command line, run by whoever operates the servers.
    if actor is not None and not actor.has_role("admin"):
        raise PartnerError(_("只有系统管理员可以管理合作方系统。"))


def _scopes(scopes) -> str:
    chosen = [s for s in SCOPES if s in set(scopes or ())]
    unknown = set(scopes or ()) - set(SCOPES)
    if unknown or not chosen:
        raise PartnerError(_("请选择权限范围：%(scopes)s。", scopes="、".join(SCOPES)))
    return " ".join(chosen)


def register_client(
    name: str,
    organisation: str,
    scopes,
    *,
    actor: Person | None = None,
    client_id: str | None = None,
    secret: str | None = None,
) -> tuple[PartnerClient, str]:
    """Register a partner system; returns (client, secret). The secret is shown once, never stored."""
    _check_admin(actor)
    name, organisation = (name or "").strip(), (organisation or "").strip()
    if not 2 <= len(name) <= 128:
        raise PartnerError(_("请填写系统名称（2至128字）。"))
    if not 2 <= len(organisation) <= 128:
        raise PartnerError(_("请填写所属单位（2至128字）。"))
    scope = _scopes(scopes)
    client_id = client_id or "p-" + secrets.token_hex(8)
    if query_client(client_id) is not None:
        raise PartnerError(_("客户端标识 %(id)s 已存在。", id=client_id))
    secret = secret or secrets.token_urlsafe(32)
    client = PartnerClient(
        client_id=client_id,
        secret_hash=secret_hash(secret),
        name=name,
        organisation=organisation,
        scope=scope,
        created_at=clock.now(),
        created_by=actor,
    )
    db.session.add(client)
    db.session.flush()
    audit.record(
        "partner.register",
        actor=actor,
        subject=f"partner:{client_id}",
        detail={"name": name, "organisation": organisation, "scope": scope},
    )
    db.session.commit()
    return client, secret


def rotate_secret(client_id: str, *, actor: Person | None = None) -> tuple[PartnerClient, str]:
    """A new secret (the old one stops working at once); tokens already issued are revoked."""
    _check_admin(actor)
    client = query_client(client_id)
    if client is None:
        raise PartnerError(_("合作方系统不存在。"))
    secret = secrets.token_urlsafe(32)
    now = clock.now()
    client.secret_hash, client.secret_changed_at = secret_hash(secret), now
    _revoke_tokens(client, now)
    audit.record("partner.rotate_secret", actor=actor, subject=f"partner:{client_id}")
    db.session.commit()
    return client, secret


def disable_client(client_id: str, *, actor: Person | None = None) -> PartnerClient:
    """No new tokens, and the tokens it holds stop working at once."""
    _check_admin(actor)
    client = query_client(client_id)
    if client is None:
        raise PartnerError(_("合作方系统不存在。"))
    if client.disabled_at is not None:
        raise PartnerError(_("该合作方系统已停用。"))
    now = clock.now()
    client.disabled_at = now
    _revoke_tokens(client, now)
    audit.record("partner.disable", actor=actor, subject=f"partner:{client_id}")
    db.session.commit()
    return client


def _revoke_tokens(client: PartnerClient, now) -> None:
    for token in db.session.execute(
        select(PartnerToken).where(PartnerToken.client_pk == client.id, PartnerToken.revoked_at.is_(None))
    ).scalars():
        token.revoked_at = now


def clients_page(token: str | None = None, *, size: int = 50):
    """合作方系统, a page at a time (a short list: numbered pages)."""
    return offset(select(PartnerClient).order_by(PartnerClient.id), token, size=size)


def clients() -> list[PartnerClient]:
    return list(db.session.execute(select(PartnerClient).order_by(PartnerClient.id)).scalars())
