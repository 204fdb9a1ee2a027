"""Authorization codes and access tokens, kept in this process's memory.

A development IdP runs as one process, so memory is enough; restarting it simply signs
everyone out. The Werkzeug server is threaded, so every access goes through one lock.
Spent codes are remembered for a while, so that a replayed code is not only refused but
also revokes the tokens it bought (RFC 6749 section 4.1.2), and a nonce cannot be reused.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from authlib.oauth2.rfc6749 import TokenMixin
from authlib.oidc.core import AuthorizationCodeMixin

from .clients import Client

CODE_LIFETIME = 60
#: How long a spent code is remembered for replay detection and nonce reuse checks.
SPENT_CODE_MEMORY = 600


@dataclass(frozen=True)
class Login:
    """The person signed in at the IdP, when, and at which level; the `user` Authlib passes around."""

    identity: dict
    auth_time: int
    acr: str | None = None  # None: the person's ordinary level

    @property
    def level(self) -> str:
        return self.acr or self.identity["acr"]


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):
    """What an authorization code stands for, as Authlib's grant and PKCE extension expect."""

    code: str
    client_id: str
    redirect_uri: str
    scope: str
    login: Login
    nonce: str | None
    code_challenge: str
    code_challenge_method: str
    issued_at: int
    spent: bool = False

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.login.auth_time

    def is_expired(self) -> bool:
        return time.time() >= self.issued_at + CODE_LIFETIME


@dataclass
class AccessToken(TokenMixin):
    """A bearer token for the userinfo endpoint."""

    access_token: str
    client: Client
    login: Login
    scope: str
    issued_at: int
    expires_in: int
    code: str
    revoked: bool = False

    def check_client(self, client):
        return client.get_client_id() == self.client.get_client_id()

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return self.expires_in

    def is_expired(self):
        return time.time() >= self.issued_at + self.expires_in

    def is_revoked(self):
        return self.revoked

    def get_user(self):
        return self.login

    def get_client(self):
        return self.client


class MemoryStore:
    """Thread-safe, single-process storage for codes and tokens."""

    def __init__(self):
        self._lock = threading.Lock()
        self._codes: dict[str, AuthorizationCode] = {}
        self._tokens: dict[str, AccessToken] = {}

    def add_code(self, code: AuthorizationCode) -> None:
        with self._lock:
            self._forget_old()
            self._codes[code.code] = code

    def take_code(self, code: str, client_id: str) -> AuthorizationCode | None:
        """Spend the code if it is live and was issued to this client, else return None.

        Checking and spending under one lock makes codes strictly single-use even when two
        token requests race. A code presented a second time also revokes its tokens.
        """
        with self._lock:
            item = self._codes.get(code)
            if item is None or item.client_id != client_id:
                return None
            if item.spent:
                self._revoke_tokens_from(code)
                return None
            if item.is_expired():
                return None
            item.spent = True
            return item

    def nonce_used(self, client_id: str, nonce: str) -> bool:
        """Whether this client already used the nonce in a recent authorization request."""
        with self._lock:
            return any(c.client_id == client_id and c.nonce == nonce for c in self._codes.values())

    def add_token(self, token: AccessToken) -> None:
        with self._lock:
            self._tokens[token.access_token] = token

    def find_token(self, access_token: str) -> AccessToken | None:
        with self._lock:
            return self._tokens.get(access_token)

    def _revoke_tokens_from(self, code: str) -> None:
        for token in self._tokens.values():
            if token.code == code:
                token.revoked = True

    def _forget_old(self) -> None:
        """Drop long-expired codes and tokens so memory stays bounded; caller holds the lock."""
        now = time.time()
        self._codes = {k: c for k, c in self._codes.items() if now < c.issued_at + SPENT_CODE_MEMORY}
        self._tokens = {k: t for k, t in self._tokens.items() if now < t.issued_at + t.expires_in}
