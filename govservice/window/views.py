"""The general window (综合窗口): pre-review of submitted cases, accept or refuse."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..cases import services as cases
from ..cases.statemachine import label as state_label
from ..identity.access import require_role

bp = Blueprint("window", __name__, url_prefix="/window")


@bp.get("/")
@require_role("clerk")
def queue():
    return render_template("window/queue.html", cases=cases.intake_queue(), state_label=state_label)


@bp.get("/cases/<number>")
@require_role("clerk")
def case(number):
    case = cases.find_case(number) or abort(404)
    return render_template("window/case.html", case=case, state_label=state_label)


@bp.post("/cases/<number>/accept")
@require_role("clerk")
def accept(number):
    case = cases.find_case(number) or abort(404)
    try:
        case = cases.accept(case.id, current_user, request.form.get("version", -1, type=int))
        flash(f"已受理办件 {case.number}，办理时限至 {case.deadline.isoformat()}。", "success")
    except cases.CaseError as exc:
        flash(exc.message, "error")
        return redirect(url_for("window.case", number=number))
    return redirect(url_for("window.queue"))
