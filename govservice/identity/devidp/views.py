"""The IdP's HTTP endpoints; the protocol work is delegated to the Authlib server in `oidc`.

The IdP keeps a small session of its own (who last signed in, and when) only to answer
`prompt=none` and to give RP-initiated logout something to clear. Interactive requests
always show the identity chooser, so developers can switch person on every login.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from flask import Blueprint, current_app, jsonify, request, session

from . import pages
from .identities import Directory, achieved_acr
from .oidc import IdpAuthorizationServer
from .store import Login

bp = Blueprint("devidp", __name__)

#: Form fields of the login page that are the user's choice, not part of the OAuth request.
CHOICE_FIELDS = ("identity", "cancel")


@dataclass(frozen=True)
class Provider:
    """What the views need from the app factory, kept in `app.extensions["devidp"]`."""

    server: IdpAuthorizationServer
    metadata: dict
    jwks: dict
    directory: Directory


def _provider() -> Provider:
    return current_app.extensions["devidp"]


@bp.after_request
def _harden(response):
    """No caching, no framing, no referrer: the pages carry codes and request state."""
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


@bp.get("/.well-known/openid-configuration")
def discovery():
    return jsonify(_provider().metadata)


@bp.get("/jwks.json")
def jwks():
    return jsonify(_provider().jwks)


@bp.route("/authorize", methods=["GET", "POST"])
def authorize():
    """Validate the request, then show the chooser, or act on the choice posted from it."""
    server = _provider().server
    login = _session_login()
    try:
        grant = server.get_consent_grant(end_user=login)
    except OAuth2Error as error:
        return _authorization_error(server, error)
    if any(field in request.form for field in CHOICE_FIELDS):
        return _decide(server, grant)
    if grant.request.payload.data.get("prompt") == "none":
        # Authlib has already answered login_required if there is no session.
        return server.create_authorization_response(grant=grant, grant_user=login)
    params = [(k, v) for k, v in request.values.items(multi=True) if k not in CHOICE_FIELDS]
    return pages.login_page(
        grant.client.get_client_id(), params, request.values.get("acr_values"), _provider().directory
    )


@bp.post("/token")
def token():
    return _provider().server.create_token_response()


@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo():
    return _provider().server.create_endpoint_response("userinfo")


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """RP-initiated logout; without a valid hint and registered URI, no redirect (spec §3)."""
    server = _provider().server
    try:
        end_request = server.validate_endpoint_request("end_session")
    except OAuth2Error as error:
        return pages.message_page("退出请求无效", [f"{error.error}: {error.description or ''}"], 400)
    return server.create_endpoint_response("end_session", end_request) or pages.message_page(
        "已退出", ["您已退出开发用身份提供方。"]
    )


def _decide(server: IdpAuthorizationServer, grant: AuthorizationCodeGrant):
    """Issue a code for the chosen identity, or answer access_denied on cancel."""
    if "cancel" in request.form:
        return server.create_authorization_response(grant=grant, grant_user=None)
    directory = _provider().directory
    identity = directory.find(request.form.get("identity"))
    if identity is None:
        return pages.message_page("无法登录", ["所选演示身份不存在，请返回重新选择。"], 400)
    # A step-up request (acr_values) is met, when the person can reach it, as if the stronger
    # method (e.g. face recognition) had just succeeded.
    login = Login(
        identity=identity, auth_time=int(time.time()), acr=achieved_acr(identity, request.values.get("acr_values"))
    )
    session["sub"], session["auth_time"], session["acr"] = directory.subject(identity), login.auth_time, login.acr
    return server.create_authorization_response(grant=grant, grant_user=login)


def _session_login() -> Login | None:
    identity = _provider().directory.find(session.get("sub"))
    return Login(identity=identity, auth_time=session["auth_time"], acr=session.get("acr")) if identity else None


def _authorization_error(server: IdpAuthorizationServer, error: OAuth2Error):
    """Send the error to the client when its redirect URI is trusted, else show it here.

    Authlib sets `redirect_uri` on the error only after the client and redirect URI were
    verified; redirecting to an unverified URI would make the IdP an open redirector.
    """
    if error.redirect_uri:
        return server.handle_error_response(None, error)
    return pages.message_page("授权请求无效", [f"{error.error}: {error.description or ''}"], 400)
