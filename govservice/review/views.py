"""Department inboxes: claim a case, record an opinion, approve or deny."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import clock
from ..cases import services as cases
from ..cases.statemachine import label as state_label
from ..identity.access import require_role

bp = Blueprint("review", __name__, url_prefix="/review")


def _case_in_my_department(number):
    case = cases.find_case(number) or abort(404)
    if "officer" not in current_user.roles(case.department_id):
        abort(403)
    return case


@bp.get("/")
@require_role("officer")
def inbox():
    today = clock.today()
    return render_template("review/inbox.html", cases=cases.department_inbox(current_user),
                           state_label=state_label, days_left=lambda c: clock.working_days_between(today, c.deadline))


@bp.get("/cases/<number>")
@require_role("officer")
def case(number):
    return render_template("review/case.html", case=_case_in_my_department(number), state_label=state_label)


@bp.post("/cases/<number>/claim")
@require_role("officer")
def claim(number):
    case = _case_in_my_department(number)
    try:
        cases.claim(case.id, current_user, request.form.get("version", -1, type=int))
        flash("已认领，请审查。", "success")
    except cases.CaseError as exc:
        flash(exc.message, "error")
    return redirect(url_for("review.case", number=number))


@bp.post("/cases/<number>/decide")
@require_role("officer")
def decide(number):
    case = _case_in_my_department(number)
    decision = request.form.get("decision")
    if decision not in ("approve", "deny"):
        flash("请选择审查结论。", "error")
        return redirect(url_for("review.case", number=number))
    try:
        cases.decide(case.id, current_user, request.form.get("version", -1, type=int),
                     approve=decision == "approve", opinion=request.form.get("opinion", ""))
        flash("审查结论已提交。", "success")
    except cases.CaseError as exc:
        flash(exc.message, "error")
        return redirect(url_for("review.case", number=number))
    return redirect(url_for("review.inbox"))
