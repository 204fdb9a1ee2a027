"""/progress: the public look-up by case number and 查询码 (no sign-in, no session written)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _

from ..core.extensions import limiter
from . import services

bp = Blueprint("progress", __name__, url_prefix="/progress")


def _asking() -> bool:
    return bool(request.args.get("number") or request.args.get("code"))


def _address_limit() -> str:
    return current_app.config.get("PROGRESS_RATE_LIMIT", "10/minute")


def _case_limit() -> str:
    return current_app.config.get("PROGRESS_CASE_RATE_LIMIT", "20/hour")


def _case_number_key() -> str:
    return "progress-case:" + (request.args.get("number") or "").strip()[:20]


@bp.get("/")
@limiter.limit(_address_limit, exempt_when=lambda: not _asking())
@limiter.limit(_case_limit, key_func=_case_number_key, exempt_when=lambda: not _asking())
def look_up():
    number, code = (request.args.get("number") or "").strip()[:40], (request.args.get("code") or "")[:40]
    if not _asking():
        return render_template("progress/look_up.html", number="", code="", errors={})
    errors = {}
    if not number:
        errors["number"] = _("请填写办件编号。")
    if not code.strip():
        errors["code"] = _("请填写查询码。")
    found = None if errors else services.look_up(number, code)
    if not errors and found is None:
        errors["form"] = _("办件编号或查询码不正确，请核对受理通知书上的编号和查询码。")
    if errors:
        return render_template("progress/look_up.html", number=number, code=code, errors=errors), 422
    return render_template("progress/look_up.html", number=number, code=code, errors={}, found=found)
