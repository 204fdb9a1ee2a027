"""Signing in and out through the configured OpenID Connect providers, linking another
provider, stepping up, "acting as" an enterprise, and the account page.

The protocol is `relying_party`'s; what the claims mean is `services`'. These views keep
the session: a flow per authorization request (purpose, where to go after), a new session id
at every sign-in, the level of assurance, and whom the person acts for.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..core.extensions import limiter, login_manager
from ..security import safe_path
from . import client_keys, enterprises, relying_party, services, sessions
from .access import ACTING_KEY, LEVEL_KEY, current_level
from .items import catalogue
from .providers import providers

bp = Blueprint("identity", __name__, url_prefix="/auth")
log = logging.getLogger(__name__)
login_manager.user_loader(services.load_user)

FLOWS_KEY = "oidc_flows"
MAX_PENDING_FLOWS = 5


@bp.get("/login")
def login():
    """The providers to choose from; `next` travels in their links (a signed-out page stores no session)."""
    return render_template(
        "identity/login.html", providers=list(providers().values()), next=safe_path(request.args.get("next"))
    )


def _begin(name: str, purpose: str, *, level: int | None = None, next_url: str | None = None):
    """Send the browser to the provider, remembering why (the flow) under the request's state."""
    provider = providers().get(name) or abort(404)
    if level and provider.acr_values_for(level) is None:
        flash(
            _("%(title)s 无法提供%(level)s级认证，请选择其他身份提供方。", title=provider.title, level=level), "error"
        )
        return redirect(url_for("identity.step_up", level=level, next=next_url))
    try:
        url, state = relying_party.authorization_url(
            provider,
            url_for("identity.callback", name=name, _external=True),
            level=level or _level_of_next(session.get("after_login")),
            required=bool(level),
            prompt="login" if purpose != services.LOGIN else None,
        )
    except relying_party.LoginFailed as exc:
        services.record_refusal(
            name,
            exc.reason,
            exc.detail,
            purpose=purpose,
            actor=current_user._get_current_object() if current_user.is_authenticated else None,
        )
        flash(exc.message, "error")
        return redirect(url_for("identity.login"))
    flows = dict(session.get(FLOWS_KEY) or {})
    while len(flows) >= MAX_PENDING_FLOWS:
        flows.pop(next(iter(flows)))
    flows[state] = {
        "purpose": purpose,
        "provider": name,
        "level": level,
        "next": next_url,
        "person_id": current_user.id if current_user.is_authenticated else None,
    }
    session[FLOWS_KEY] = flows
    return redirect(url)


@bp.get("/jwks.json")
def client_jwks():
    """The public key of the platform's private_key_jwt client authentication (the providers'
    `jwks_uri` for this client)."""
    response = jsonify(client_keys.jwks())
    response.cache_control.public, response.cache_control.max_age = True, 3600
    return response


def _level_of_next(target: str | None) -> int | None:
    """The level of assurance of the service item a signing-in person goes to apply for (asked
    of the provider, so that one sign-in is enough), if that is where they go."""
    if not target or not target.startswith("/apply/"):
        return None
    item = catalogue().current_item(target.split("?")[0].removeprefix("/apply/"))
    return item.level_of_assurance if item is not None and item.level_of_assurance > 1 else None


@bp.get("/login/<name>")
@limiter.limit("120/minute")
def start(name):
    """Sign in; with `level`, a signed-in person steps up to that level of assurance."""
    level = request.args.get("level", type=int)
    if level and current_user.is_authenticated:
        return _begin(name, services.STEP_UP, level=level, next_url=safe_path(request.args.get("next")))
    nxt = safe_path(request.args.get("next"))
    if nxt:
        session["after_login"] = nxt
    return _begin(name, services.LOGIN)


@bp.post("/link/<name>")
@login_required
def link(name):
    """Sign in through another provider to link it to this account (the same ID number)."""
    return _begin(name, services.LINK, next_url=url_for("identity.me"))


@bp.get("/callback/<name>")
@limiter.limit("120/minute")
def callback(name):
    provider = providers().get(name) or abort(404)
    flows = dict(session.get(FLOWS_KEY) or {})
    flow = flows.pop(request.args.get("state", ""), None) or {"purpose": services.LOGIN}
    session[FLOWS_KEY] = flows
    purpose = flow["purpose"]
    signed_in = current_user._get_current_object() if current_user.is_authenticated else None
    try:
        verified = relying_party.complete(provider)
        expected = flow.get("person_id") if purpose != services.LOGIN else None
        if purpose != services.LOGIN and (signed_in is None or signed_in.id != expected):
            raise services.LoginRefused(_("登录状态已变化，请重新操作。"), "session_changed")
        person = services.sign_in(provider, verified.claims, purpose=purpose, expected_person_id=expected)
    except (relying_party.LoginFailed, services.LoginRefused) as exc:
        services.record_refusal(
            name, exc.reason, getattr(exc, "detail", None) or str(exc), actor=signed_in, purpose=purpose
        )
        flash(exc.message, "info" if exc.reason == "cancelled" else "error")
        if purpose == services.STEP_UP:
            return redirect(url_for("identity.step_up", level=flow.get("level"), next=flow.get("next")))
        return redirect(url_for("identity.me") if purpose == services.LINK else url_for("identity.login"))
    level = provider.level_of(verified.acr)
    if purpose == services.LOGIN:
        return _signed_in(person, name, level, verified.id_token)
    sessions.regenerate(session)  # re-authenticated: a new id, as at sign-in
    session[LEVEL_KEY] = max(current_level(), level)
    if purpose == services.LINK:
        flash(_("已关联 %(title)s。以后通过它登录，也会进入同一个账号。", title=provider.title), "success")
        return redirect(url_for("identity.me"))
    if level < (flow.get("level") or 0):
        flash(
            _(
                "%(title)s 本次认证为%(got)s级，未达到所需的%(need)s级。请选择其他认证方式或身份提供方。",
                title=provider.title,
                got=level,
                need=flow["level"],
            ),
            "error",
        )
        return redirect(url_for("identity.step_up", level=flow["level"], next=flow.get("next")))
    session["provider"], session["id_token"] = name, verified.id_token
    flash(_("认证等级已提升至%(level)s级。", level=level), "success")
    return redirect(safe_path(flow.get("next")) or url_for("main.home"))


def _signed_in(person, provider_name: str, level: int, id_token: str):
    after = safe_path(session.get("after_login"))
    lang = session.get("lang")
    session.clear()  # nothing from before the sign-in carries over...
    sessions.regenerate(session)  # ...not even the session id
    if lang:
        session["lang"] = lang
    login_user(person)
    session[LEVEL_KEY] = level
    session[sessions.STAFF_FLAG] = person.is_staff
    session["provider"], session["id_token"] = provider_name, id_token
    if after in (None, "/") and person.is_staff:  # signed in from the home page: staff start on their console
        after = url_for("main.start")
    return redirect(after or url_for("main.home"))


@bp.post("/logout")
def logout():
    provider_name, id_token = session.get("provider"), session.get("id_token")
    if current_user.is_authenticated:
        services.record_sign_out(current_user._get_current_object(), provider_name)
    logout_user()
    session.clear()
    sessions.regenerate(session)
    provider = providers().get(provider_name) if provider_name else None
    end_session = (
        relying_party.logout_url(provider, id_token, url_for("identity.logged_out", _external=True))
        if provider
        else None
    )
    if end_session:
        return redirect(end_session)
    return redirect(url_for("identity.logged_out"))


@bp.get("/logged-out")
def logged_out():
    """Where a provider sends the browser back after RP-initiated logout: a page of its own, as a
    flash message would store a session for someone just signed out."""
    return render_template("identity/logged_out.html")


@bp.post("/sessions/end-all")
@login_required
def end_all_sessions():
    """Sign out everywhere: every device, this one included."""
    ended = services.sign_out_everywhere(current_user._get_current_object())
    logout_user()
    session.clear()
    sessions.regenerate(session)
    flash(_("已在所有设备上退出登录（共%(n)s处）。", n=ended), "success")
    return redirect(url_for("main.home"))


@bp.get("/me")
@login_required
def me():
    person = current_user._get_current_object()
    linked = services.linked_providers(person)
    linked_names = {link.provider for link, _provider in linked}
    return render_template(
        "identity/me.html",
        linked=linked,
        level=current_level(),
        unlinked=[p for p in providers().values() if p.name not in linked_names],
        live_sessions=sessions.active_for(person.id),
        this_session=getattr(session, "record", None),
        options=enterprises.acting_options(person),
    )


@bp.get("/stepup")
@login_required
def step_up():
    level = request.args.get("level", type=int)
    if level not in (2, 3):
        abort(404)
    nxt = safe_path(request.args.get("next"))
    if current_level() >= level:
        return redirect(nxt or url_for("main.home"))
    able = [p for p in providers().values() if p.max_level >= level]
    return render_template("identity/stepup.html", level=level, current=current_level(), next=nxt, providers=able)


@bp.post("/acting-as")
@login_required
def acting_as():
    """Switch between acting as oneself and acting for an enterprise."""
    person = current_user._get_current_object()
    back = safe_path(request.form.get("next")) or url_for("main.home")
    target = request.form.get("enterprise", "")
    current = session.get(ACTING_KEY)
    if not target:
        if current:
            enterprises.stop_acting(person, current["enterprise_id"])
            session.pop(ACTING_KEY, None)
        flash(_("已切换为本人身份办事。"), "success")
        return redirect(back)
    if not target.isdigit():
        flash(_("请选择要代表的企业。"), "error")
        return redirect(back)
    try:
        option = enterprises.start_acting(person, int(target))
    except enterprises.EnterpriseError as exc:
        flash(exc.message, "error")
        return redirect(back)
    session[ACTING_KEY] = {
        "enterprise_id": option.enterprise.id,
        "basis": option.basis,
        "grant_id": option.grant.id if option.grant else None,
    }
    flash(
        _("您现在代表“%(name)s”办事（%(basis)s）。", name=option.enterprise.name, basis=option.basis_label), "success"
    )
    return redirect(back)
