"""合作方系统管理: administrators register partner systems, rotate their secrets, disable them."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..identity.access import require_role
from . import services
from .models import SCOPES

bp = Blueprint("partner_admin", __name__, url_prefix="/admin/partners")


def _page(secret=None, client=None, error=None, values=None, status=200):
    return render_template(
        "partners/admin.html",
        clients=services.clients_page(request.args.get("page")),
        scopes=SCOPES,
        secret=secret,
        new_client=client,
        error=error,
        values=values or {},
        checked_scopes=values.getlist("scope") if values else [],
    ), status


@bp.get("/")
@require_role("admin")
def index():
    return _page()


@bp.post("/")
@require_role("admin")
def register():
    form = request.form
    try:
        client, secret = services.register_client(
            form.get("name", ""), form.get("organisation", ""), form.getlist("scope"), actor=current_user
        )
    except services.PartnerError as exc:
        return _page(error=exc.message, values=form, status=400)
    # The secret is shown on this response only: it is stored as a hash.
    return _page(secret=secret, client=client)


@bp.post("/<client_id>/rotate")
@require_role("admin")
def rotate(client_id):
    try:
        client, secret = services.rotate_secret(client_id, actor=current_user)
    except services.PartnerError as exc:
        flash(exc.message, "error")
        return redirect(url_for("partner_admin.index"))
    return _page(secret=secret, client=client)


@bp.post("/<client_id>/disable")
@require_role("admin")
def disable(client_id):
    try:
        services.disable_client(client_id, actor=current_user)
        flash(_("已停用合作方系统 %(id)s，其访问令牌立即失效。", id=client_id), "success")
    except services.PartnerError as exc:
        flash(exc.message, "error")
    return redirect(url_for("partner_admin.index"))
