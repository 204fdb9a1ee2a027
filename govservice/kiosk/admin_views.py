"""系统管理 · 自助终端 (/admin/kiosks): administrators register terminals, read each one's
one-time enrollment code once, see when each was last seen, and disable them. A blueprint
nested in the kiosk's (its endpoints are `kiosk.admin.*`)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ..core import clock
from ..identity.access import require_role
from . import services

bp = Blueprint("admin", __name__, url_prefix="/admin/kiosks")


@bp.route("", methods=["GET", "POST"])
@require_role("admin")
def index():
    admin_person = current_user._get_current_object()
    code, device, error = None, None, None
    if request.method == "POST":
        try:
            device, code = services.register(
                admin_person, request.form.get("name", ""), request.form.get("hall"), request.form.get("reader_key", "")
            )
        except services.KioskError as exc:
            error = exc.message
    return render_template(
        "kiosk/admin.html",
        devices=services.devices(),
        halls=services.halls(),
        new_device=device,
        code=code,
        error=error,
        form=request.form if error else MultiDict(),
        now=clock.now(),
    ), (422 if error else 200)


@bp.post("/<int:device_id>/revoke")
@require_role("admin")
def revoke(device_id):
    try:
        device = services.revoke(current_user._get_current_object(), device_id)
    except services.KioskError as exc:
        flash(exc.message, "error")
    else:
        flash(_("终端“%(name)s”已停用，立即生效。", name=device.name), "success")
    return redirect(url_for("kiosk.admin.index"))
