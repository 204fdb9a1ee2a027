"""消息: the person's notices, and where e-mail notices go."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..core.extensions import csrf
from . import services

bp = Blueprint("notify", __name__, url_prefix="/notices")


@bp.get("/")
@login_required
def index():
    notices = services.notices_of(current_user)
    return render_template("notify/list.html", notices=[(n, *services.render(n)) for n in notices])


@bp.get("/<int:notice_id>")
@login_required
def open_(notice_id):
    try:
        notice = services.open_notice(current_user, notice_id)
    except services.NoticeError:
        abort(404)
    return redirect(notice.url or url_for("notify.index"))


@bp.post("/read")
@login_required
def read_all():
    services.mark_all_read(current_user)
    flash(_("已全部标为已读。"), "success")
    return redirect(url_for("notify.index"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    current = services.settings_of(current_user)
    values = {
        "email": current.email or "",
        "enabled": current.email_enabled,
        "phone": current.phone or "",
        "sms_enabled": current.sms_enabled,
    }
    error = None
    if request.method == "POST":
        values = {
            "email": request.form.get("email", ""),
            "enabled": bool(request.form.get("email_enabled")),
            "phone": request.form.get("phone", ""),
            "sms_enabled": bool(request.form.get("sms_enabled")),
        }
        try:
            services.update_settings(
                current_user,
                values["email"],
                values["enabled"],
                phone=values["phone"],
                sms_enabled=values["sms_enabled"],
            )
        except services.NoticeError as exc:
            error = exc.message
        else:
            flash(_("通知设置已保存。"), "success")
            return redirect(url_for("notify.settings"))
    return render_template("notify/settings.html", login_phone=current_user.phone, error=error, **values), (
        422 if error else 200
    )


@bp.post("/sms/status")
@csrf.exempt  # the SMS gateway's delivery report, authenticated by its HMAC signature instead
def sms_status():
    if not services.record_sms_status(request.get_data(), request.headers.get("X-Signature", "")):
        return {"error": "unknown message or bad signature"}, 400
    return {"ok": True}
