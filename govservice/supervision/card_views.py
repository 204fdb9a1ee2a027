"""电子监察 cards: the supervisors' list with 督办 and the trends (under /supervision), and the
department's own cards with its replies (under /review, for its officers)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..cases.forms import posted_version
from ..identity.access import require_role
from . import cards
from .services import SupervisionError

bp = Blueprint("cards", __name__)


def _supervision_page(status=200, errors=None, typed=None):
    return render_template(
        "supervision/cards.html",
        cards=cards.page_for_supervisor(current_user, request.args.get("page"), status=request.args.get("status")),
        trends=cards.trends(current_user),
        statuses=cards.STATUSES,
        errors=errors or {},
        typed=typed or {},
    ), status


@bp.get("/supervision/cards")
@require_role("supervisor", "admin")
def supervision():
    return _supervision_page()


@bp.post("/supervision/cards/<int:card_id>/urge")
@require_role("supervisor")
def urge(card_id):
    try:
        cards.urge(
            card_id, current_user, posted_version(), request.form.get("note", ""), request.form.get("reply_days", "")
        )
    except SupervisionError as exc:
        return _supervision_page(422, {card_id: exc.message}, {card_id: request.form})
    flash(_("已督办，承办部门将收到通知。"), "success")
    return redirect(url_for("cards.supervision"))


def _department_page(status=200, errors=None, typed=None):
    return render_template(
        "review/cards.html",
        cards=cards.page_for_officer(current_user, request.args.get("page")),
        may_reply=cards.may_reply,
        errors=errors or {},
        typed=typed or {},
    ), status


@bp.get("/review/cards")
@require_role("officer")
def department():
    return _department_page()


@bp.post("/review/cards/<int:card_id>/reply")
@require_role("officer")
def reply(card_id):
    try:
        cards.reply(card_id, current_user, posted_version(), request.form.get("reply", ""))
    except SupervisionError as exc:
        return _department_page(422, {card_id: exc.message}, {card_id: request.form.get("reply", "")})
    flash(_("督办答复已提交。"), "success")
    return redirect(url_for("cards.department"))
