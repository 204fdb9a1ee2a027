"""消息: the person's notices, and where e-mail notices go."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

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
    email, enabled = (current.email or ""), current.email_enabled
    status = 200
    if request.method == "POST":
        email, enabled = request.form.get("email", ""), bool(request.form.get("email_enabled"))
        try:
            services.update_settings(current_user, email, enabled)
        except services.NoticeError as exc:
            flash(exc.message, "error")
            status = 422
        else:
            flash(_("通知设置已保存。"), "success")
            return redirect(url_for("notify.settings"))
    return render_template("notify/settings.html", email=email, enabled=enabled,
                           error=status == 422), status
