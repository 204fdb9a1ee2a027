"""Partners' bearer tokens remembered per process, for the verify API's hot path.

Without this every `POST /api/v1/certificates/verify` reads its token row (and client) from
the database: a query and a transaction for a call whose answer otherwise comes from Redis.
Each web process keeps what it read (client, scope, expiry) for up to
`PARTNER_TOKEN_CACHE_SECONDS`, with the *generation* of partners' credentials it read it
under. Every commit that revokes a token or changes a client (disable, new secret) bumps the
generation in Redis, on any instance, and announces it on the mirror's channel (`core.mirror`);
each verification checks the remembered token's generation against the mirror's copy, or in its
own Redis round trip while the mirror is not subscribed (`verification.Guard`), so a revoked
token is refused everywhere as soon as the announcement arrives, with no round trip of its own.
Expiry is checked locally from the remembered expiry time.

Without Redis nothing is remembered: the embedded default reads the row, as before.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..core import clock, mirror, redis_link
from .models import PartnerClient, PartnerToken

GENERATION = "partners:generation"  # under the deployment's key prefix
MAX_TOKENS = 10_000


@dataclass(frozen=True)
class ClientView:
    """What the API uses of a client, detached from any database session."""

    id: int
    client_id: str
    label: str
    active: bool


@dataclass(frozen=True)
class TokenView:
    """A remembered token; answers Authlib's token questions like `PartnerToken`."""

    client: ClientView
    scope: str
    expires_at: datetime
    revoked: bool
    generation: str
    scopes: frozenset[str]  # the scope's words, split once

    def get_scope(self):
        return self.scope

    def is_expired(self, now: datetime | None = None):
        return self.expires_at <= (now or clock.now())

    def is_revoked(self):
        return self.revoked or not self.client.active


_tokens: OrderedDict[str, tuple[TokenView, float]] = OrderedDict()


def enabled(app: Flask | None = None) -> bool:
    """Whether tokens are remembered (`app`: for a caller outside the app's context)."""
    app = app if app is not None else current_app
    return app.extensions.get("redis_link") is not None and app.config["PARTNER_TOKEN_CACHE_SECONDS"] > 0


def generation() -> str | None:
    """The current generation ("0" before the first change), or None when Redis does not answer."""
    value = redis_link.link().call(lambda r: r.get(redis_link.link().prefix + GENERATION), redis_link.DOWN)
    return None if value is redis_link.DOWN else (value.decode() if value else "0")


def get(token_hash: str, app: Flask | None = None) -> TokenView | None:
    found = _tokens.get(token_hash)
    if found is None:
        return None
    view, loaded = found
    if time.monotonic() - loaded > (app if app is not None else current_app).config["PARTNER_TOKEN_CACHE_SECONDS"]:
        _tokens.pop(token_hash, None)
        return None
    return view


def remember(token_hash: str, token: PartnerToken, generation_read_before: str) -> TokenView:
    """Keep `token` (read from the database *after* `generation_read_before` was read, so a change
    committed in between has bumped the generation and the guard refuses this copy)."""
    client = token.client
    view = TokenView(
        ClientView(client.id, client.client_id, client.label, client.active),
        token.scope,
        token.expires_at,
        token.revoked_at is not None,
        generation_read_before,
        frozenset(token.scope.split()),
    )
    _tokens[token_hash] = (view, time.monotonic())
    if len(_tokens) > MAX_TOKENS:
        _tokens.popitem(last=False)
    return view


def forget() -> None:
    """Drop every remembered token (the generation moved: something was revoked or changed)."""
    _tokens.clear()


# --------------------------------------------------------------------------- invalidation


def _after_flush(session: Session, _context) -> None:
    if any(isinstance(obj, (PartnerClient, PartnerToken)) for obj in (*session.dirty, *session.deleted)):
        session.info["partner_credentials_changed"] = True


def _after_commit(session: Session) -> None:
    if not session.info.pop("partner_credentials_changed", False) or not has_app_context():
        return
    _tokens.clear()
    link = redis_link.link()
    # every process's verifications re-read the bumped generation as soon as they hear of it
    if link is not None and not mirror.publish([link.prefix + GENERATION], bump=True):
        current_app.logger.error(
            "could not announce a partner credential change in Redis; other processes "
            "may accept a revoked token for up to %s s",
            current_app.config["PARTNER_TOKEN_CACHE_SECONDS"],
        )


def _after_rollback(session: Session) -> None:
    session.info.pop("partner_credentials_changed", None)


def init_app(_app) -> None:
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
