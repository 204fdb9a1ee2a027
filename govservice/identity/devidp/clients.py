"""The relying parties the development IdP knows, as Authlib client objects.

A real provider registers each client's redirect URIs exactly. The default development
client instead accepts any `/auth/callback/...` path on a loopback host and any port,
because developers and tests run the platform on whatever port is free. That leniency is
only safe because the IdP itself is only for development and tests.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list

from ...core.keys import instance_secret

DEFAULT_CLIENT_ID = "govservice"
DEFAULT_SCOPE = "openid profile phone roles"
TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
LOOPBACK_HOSTS = {"127.0.0.1", "localhost"}
CALLBACK_PATH_PREFIX = "/auth/callback/"


class Client(ClientMixin):
    """A confidential client with exactly registered redirect URIs.

    Built from a `clients` entry: {"client_id", "client_secret", "redirect_uris",
    "scope", and optionally "post_logout_redirect_uris"}.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        redirect_uris=(),
        scope: str = DEFAULT_SCOPE,
        post_logout_redirect_uris=(),
    ):
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = list(redirect_uris)
        self.scope = scope
        self.post_logout_redirect_uris = list(post_logout_redirect_uris)

    @property
    def client_metadata(self) -> dict:
        """Registration metadata; Authlib's userinfo and logout endpoints read it."""
        return {
            "redirect_uris": self.redirect_uris,
            "post_logout_redirect_uris": self.post_logout_redirect_uris,
            "scope": self.scope,
        }

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        """None: OpenID Connect requires every authorization request to name its redirect URI."""
        return None

    def get_allowed_scope(self, scope):
        """Grant the requested scopes this client is registered for, silently dropping others."""
        allowed = set(scope_to_list(self.scope))
        return list_to_scope([s for s in scope_to_list(scope) or [] if s in allowed])

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_post_logout_redirect_uri(self, uri: str) -> bool:
        """Where RP-initiated logout may send the browser back to."""
        return uri in self.post_logout_redirect_uris

    def check_client_secret(self, client_secret):
        return hmac.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method, endpoint):
        return method in TOKEN_ENDPOINT_AUTH_METHODS

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


class LoopbackDevClient(Client):
    """The default client: any callback under `/auth/callback/` on a loopback host, any port."""

    def check_redirect_uri(self, redirect_uri):
        return _is_loopback_url(redirect_uri) and urlsplit(redirect_uri).path.startswith(CALLBACK_PATH_PREFIX)

    def check_post_logout_redirect_uri(self, uri: str) -> bool:
        return _is_loopback_url(uri)


def build_clients(instance_dir: str, clients: list[dict] | None) -> dict[str, Client]:
    """The registry by client_id: the given clients, or the single default development client.

    The default client's secret comes from the same instance file (or environment variable)
    the platform reads, so the two agree without configuration.
    """
    if clients is None:
        secret = instance_secret(instance_dir, "devidp_client_secret", "DEV_IDP_CLIENT_SECRET")
        return {DEFAULT_CLIENT_ID: LoopbackDevClient(DEFAULT_CLIENT_ID, secret)}
    return {entry["client_id"]: Client(**entry) for entry in clients}


def _is_loopback_url(uri: str) -> bool:
    """An http(s) URL on a loopback host, without credentials or fragment."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and parts.hostname in LOOPBACK_HOSTS
        and not parts.username
        and not parts.fragment
    )
