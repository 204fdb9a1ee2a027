"""我的企业: the enterprises a person may act for, and, for a legal representative, the agents
(经办人) of an enterprise: authorise, see, revoke."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..core import clock
from . import enterprises
from .forms import AgentGrantForm
from .idnumbers import InvalidNumber, normalise_credit_code
from .items import catalogue

bp = Blueprint("enterprise", __name__, url_prefix="/enterprise")


@bp.get("/")
@login_required
def mine():
    return render_template(
        "identity/enterprises.html", options=enterprises.acting_options(current_user._get_current_object())
    )


def _code(uscc: str) -> str:
    try:
        return normalise_credit_code(uscc)
    except InvalidNumber:
        abort(404)


def _cannot_manage(exc):
    return render_template(
        "identity/refused.html",
        title=_("无法管理经办人"),
        message=exc.message,
        hint=_("经办人由企业的法定代表人（以法人库登记为准）授权和撤销。"),
    ), 403


@bp.route("/<uscc>/agents", methods=["GET", "POST"])
@login_required
def agents(uscc):
    person = current_user._get_current_object()
    code = _code(uscc)
    if enterprises.by_credit_code(code) is None:
        abort(404)
    try:
        enterprise, grants = enterprises.manage_agents(person, code)
    except enterprises.EnterpriseError as exc:
        return _cannot_manage(exc)
    items = catalogue().list_items()
    form = AgentGrantForm()
    form.set_items(items)
    if form.validate_on_submit():
        try:
            grant = enterprises.grant_agent(
                person,
                code,
                form.agent_id_number.data,
                form.agent_name.data,
                all_items=form.scope.data == "all",
                item_codes=form.items.data or [],
                valid_until=form.valid_until.data,
                known_items={item.code for item in items},
            )
        except enterprises.EnterpriseError as exc:
            flash(exc.message, "error")
        else:
            flash(
                _(
                    "已授权 %(name)s 为经办人，有效期至 %(until)s。",
                    name=grant.agent.masked_name,
                    until=form.valid_until.data.isoformat(),
                ),
                "success",
            )
            return redirect(url_for("enterprise.agents", uscc=code))
    elif request.method == "POST":
        flash(_("授权未保存：请按提示修改标出的内容。"), "error")
    return render_template(
        "identity/agents.html",
        enterprise=enterprise,
        grants=grants,
        form=form,
        item_names={item.code: item.name for item in items},
        now=clock.now(),
    ), (422 if request.method == "POST" else 200)


@bp.post("/<uscc>/agents/<int:grant_id>/revoke")
@login_required
def revoke(uscc, grant_id):
    code = _code(uscc)
    if enterprises.by_credit_code(code) is None:
        abort(404)
    try:
        grant = enterprises.revoke_grant(current_user._get_current_object(), code, grant_id)
    except enterprises.NotRepresentative as exc:
        return _cannot_manage(exc)
    except enterprises.EnterpriseError as exc:
        flash(exc.message, "error")
    else:
        flash(_("已撤销 %(name)s 的经办授权，立即生效。", name=grant.agent.masked_name), "success")
    return redirect(url_for("enterprise.agents", uscc=code))
