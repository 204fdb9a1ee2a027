"""The application factory of the development OpenID Connect provider."""

from __future__ import annotations

from flask import Flask

from ...core.keys import instance_secret
from .clients import build_clients
from .identities import DEFAULT_SUBJECT_PREFIX, Directory
from .oidc import create_authorization_server, discovery_document
from .signing_key import load_or_create_signing_key, public_key_set
from .views import Provider, bp


def create_idp_app(
    issuer: str, instance_dir: str, clients: list[dict] | None = None, subject_prefix: str = DEFAULT_SUBJECT_PREFIX
) -> Flask:
    """Build the IdP for `issuer` (e.g. "http://127.0.0.1:5001"), keeping keys in `instance_dir`.

    With `clients` None the IdP knows the platform's default development client, whose
    secret it shares with the platform through the instance directory; otherwise each entry
    {"client_id", "client_secret", "redirect_uris", "scope"} is registered with exact
    redirect URIs, as a real provider would.

    `subject_prefix` names the same demo people under other subjects, so that a second
    instance (another issuer, another instance directory, hence another key and client
    secret) plays a second provider asserting the same ID numbers.
    """
    issuer = issuer.rstrip("/")
    app = Flask(__name__, static_folder=None)
    app.config.update(
        SECRET_KEY=instance_secret(instance_dir, "devidp_session_secret", "DEV_IDP_SESSION_SECRET"),
        # Cookies ignore ports: a distinct name keeps the IdP from overwriting the session of
        # a platform running on the same host.
        SESSION_COOKIE_NAME="devidp_session",
        SESSION_COOKIE_SAMESITE="Lax",
    )
    key = load_or_create_signing_key(instance_dir)
    directory = Directory(subject_prefix)
    server = create_authorization_server(app, build_clients(instance_dir, clients), issuer, key, directory)
    app.extensions["devidp"] = Provider(
        server=server, metadata=discovery_document(issuer), jwks=public_key_set(key), directory=directory
    )
    app.register_blueprint(bp)
    return app
