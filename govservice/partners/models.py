"""Partner systems (machine clients of other departments) and the access tokens issued to them.

Neither the client secret nor the access token is stored: only their SHA-256. Both are long
random strings made here (256 and 240 bits), so a fast hash is enough -- there is nothing to
guess from a dictionary -- and every API call can check its token without a slow KDF.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oauth2.rfc6749.util import scope_to_list
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import clock
from ..core.extensions import db
from ..core.models_base import UTCDateTime, utcnow
from ..identity.models import Person

#: Every scope a partner can be given.
SCOPES = {
    "certificates:verify": "核验证照状态",
    "certificates:read": "经持证人授权读取证照全部内容",
}


def secret_hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class PartnerClient(ClientMixin, db.Model):
    """A partner department's system, registered by an administrator with its scopes."""

    __tablename__ = "partner_clients"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(128), nullable=False)  # the system, e.g. 公共场所卫生许可审批系统
    organisation: Mapped[str] = mapped_column(String(128), nullable=False)  # the partner department
    scope: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    secret_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[Person | None] = relationship()

    @property
    def scopes(self) -> list[str]:
        return scope_to_list(self.scope) or []

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    @property
    def label(self) -> str:
        """How the partner is named to holders: department, then system."""
        return f"{self.organisation}（{self.name}）"

    # ---- Authlib's ClientMixin

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        """No scope asked: all of the client's. Asking for one it was not given: refused."""
        if not scope:
            return self.scope
        asked = scope_to_list(scope)
        if not set(asked) <= set(self.scopes):
            return None
        return " ".join(s for s in self.scopes if s in asked)

    def check_redirect_uri(self, redirect_uri):
        return False

    def check_client_secret(self, client_secret):
        return self.active and hmac.compare_digest(self.secret_hash, secret_hash(client_secret or ""))

    def check_endpoint_auth_method(self, method, endpoint):
        return endpoint == "token" and method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return False

    def check_grant_type(self, grant_type):
        return self.active and grant_type == "client_credentials"


class PartnerToken(TokenMixin, db.Model):
    """An access token (bearer, opaque); only its hash is kept."""

    __tablename__ = "partner_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("partner_clients.id"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    scope: Mapped[str] = mapped_column(String(255), nullable=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    client: Mapped[PartnerClient] = relationship()

    # ---- Authlib's TokenMixin

    def check_client(self, client):
        return self.client_pk == client.id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return int((self.expires_at - self.issued_at).total_seconds())

    def is_expired(self):
        return self.expires_at <= clock.now()

    def is_revoked(self):
        return self.revoked_at is not None or not self.client.active

    def get_user(self):
        return None

    def get_client(self):
        return self.client
