"""Sign-in through the configured OpenID Connect providers, and sign-out."""
from __future__ import annotations

import logging

from authlib.common.errors import AuthlibBaseError
from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from requests.exceptions import RequestException

from ..extensions import login_manager
from . import services

bp = Blueprint("identity", __name__, url_prefix="/auth")
log = logging.getLogger(__name__)
login_manager.user_loader(services.load_user)


@bp.get("/login")
def login():
    nxt = request.args.get("next", "")
    if nxt.startswith("/") and not nxt.startswith("//"):
        session["after_login"] = nxt
    return render_template("identity/login.html", providers=list(services.providers().values()))


@bp.get("/login/<name>")
def start(name):
    provider = services.providers().get(name) or abort(404)
    client = services.oidc_client(provider.name)
    try:
        return client.authorize_redirect(url_for("identity.callback", name=name, _external=True))
    except RequestException:
        log.exception("provider %s unreachable", name)
        flash("身份提供方暂时无法访问，请稍后再试。", "error")
        return redirect(url_for("identity.login"))


@bp.get("/callback/<name>")
def callback(name):
    provider = services.providers().get(name) or abort(404)
    client = services.oidc_client(provider.name)
    if request.args.get("error") == "access_denied":
        flash("您已取消登录。", "info")
        return redirect(url_for("identity.login"))
    try:
        token = client.authorize_access_token()
        claims = dict(token.get("userinfo") or {})
        if not claims.get(provider.id_number_claim):
            claims.update(client.userinfo(token=token))
        person = services.sign_in(provider, claims)
    except services.LoginRefused as exc:
        log.warning("login refused from %s: %s", name, exc)
        flash(exc.message, "error")
        return redirect(url_for("identity.login"))
    except (AuthlibBaseError, RequestException, ValueError, KeyError) as exc:
        log.warning("login failed from %s: %r", name, exc)
        flash("登录未完成：身份提供方的应答无效或已过期，请重新登录。", "error")
        return redirect(url_for("identity.login"))
    after = session.pop("after_login", None)
    lang = session.get("lang")
    session.clear()  # a fresh session at login: nothing from before carries over
    if lang:
        session["lang"] = lang
    login_user(person)
    session["provider"] = name
    session["id_token"] = token.get("id_token")
    return redirect(after or url_for("main.home"))


@bp.post("/logout")
def logout():
    provider = session.get("provider")
    id_token = session.get("id_token")
    logout_user()
    session.clear()
    if provider and provider in services.providers():
        client = services.oidc_client(provider)
        try:
            metadata = client.load_server_metadata()
        except RequestException:
            metadata = {}
        if metadata.get("end_session_endpoint"):
            return client.logout_redirect(post_logout_redirect_uri=url_for("main.home", _external=True),
                                          id_token_hint=id_token)
    return redirect(url_for("main.home"))


@bp.get("/me")
def me():
    if not current_user.is_authenticated:
        return redirect(url_for("identity.login"))
    return render_template("identity/me.html")
