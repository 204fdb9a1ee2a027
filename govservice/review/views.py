"""Department inboxes: the steps waiting for my departments by deadline; claim, read everything,
record opinions, approve, deny, or send the case back to the window for a supplement."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import access
from ..calendar import working
from ..cases import queries
from ..cases import services as cases
from ..cases.forms import posted_supplement_due, posted_supplement_items, posted_version
from ..cases.queries import days_left
from ..cases.statemachine import label as state_label
from ..cases.statemachine import step_label
from ..core import clock
from ..identity.access import require_role
from . import services as review

bp = Blueprint("review", __name__, url_prefix="/review")

#: What 不予许可 will do, shown before it is done.
DENY_CONSEQUENCES = (
    _l("本部门的结论为不予许可；串联审查的办件就此以不予许可办结，并联审查的办件在各部门作出结论后不予许可。"),
    _l("申请人将收到不予许可的通知和您填写的理由，可以依法申请行政复议或者提起行政诉讼。"),
    _l("提交后不能撤回或修改。"),
)


def _my_steps(case):
    return [s for s in case.steps if "officer" in current_user.roles(s.department_id)]


OFFICER = frozenset({access.Relation.OFFICER})


def _case_for_my_departments(number):
    """The case, if one of my departments is in its workflow or leads it (govservice.access; a
    GET is an audited read)."""
    return access.case_for(current_user, number, only=OFFICER, audit_read=request.method == "GET")[0]


def _step_id() -> int | None:
    return request.form.get("step", None, type=int)


@bp.get("/")
@require_role("officer")
def inbox():
    page = queries.department_inbox(current_user, request.args.get("page"))
    return render_template("review/inbox.html", page=page, state_label=state_label, step_label=step_label)


def _render(case, status=200, **extra):
    today = clock.today()
    mine = [s for s in _my_steps(case) if s.stage == case.current_stage]
    return render_template(
        "review/case.html",
        case=case,
        mine=mine,
        state_label=state_label,
        step_label=step_label,
        left=days_left(case, today, working.WorkingCalendar()),
        default_due=cases.supplement_due(None),
        form=extra.pop("form", {}),
        errors=extra.pop("errors", {}),
        **extra,
    ), status


@bp.get("/cases/<number>")
@require_role("officer")
def case(number):
    return _render(_case_for_my_departments(number))


@bp.post("/cases/<number>/claim")
@require_role("officer")
def claim(number):
    case = _case_for_my_departments(number)
    try:
        review.claim(case.id, current_user, posted_version(), step_id=_step_id())
        flash(_("已认领，请审查。"), "success")
    except cases.CaseError as exc:
        flash(exc.message, "error")
    return redirect(url_for("review.case", number=number))


@bp.post("/cases/<number>/opinion")
@require_role("officer")
def opinion(number):
    case = _case_for_my_departments(number)
    try:
        review.record_opinion(case.id, current_user, request.form.get("note", ""), step_id=_step_id())
    except cases.CaseError as exc:
        return _render(case, 422, form=request.form, errors={"note": exc.message})
    flash(_("审查意见已记录。"), "success")
    return redirect(url_for("review.case", number=number))


@bp.post("/cases/<number>/decide")
@require_role("officer")
def decide(number):
    case = _case_for_my_departments(number)
    decision = request.form.get("decision")
    if decision not in ("approve", "deny"):
        return _render(case, 422, form=request.form, errors={"decision": _("请选择审查结论。")})
    if decision == "deny" and request.form.get("opinion", "").strip() and request.form.get("confirmed") != "1":
        return render_template(
            "_confirm.html",
            title=_("确认不予许可：%(number)s", number=case.number),
            consequences=DENY_CONSEQUENCES,
            quoted=request.form.get("opinion"),
            quoted_label=_("不予许可的理由"),
            action=url_for("review.decide", number=number),
            fields=[(k, request.form.get(k, "")) for k in ("version", "step", "decision", "opinion")],
            confirm_label=_("确认不予许可"),
            back=url_for("review.case", number=number),
        )
    try:
        review.decide(
            case.id,
            current_user,
            posted_version(),
            approve=decision == "approve",
            opinion=request.form.get("opinion", ""),
            step_id=_step_id(),
        )
    except cases.StaleCase as exc:
        flash(exc.message, "error")
        return redirect(url_for("review.case", number=number))
    except cases.CaseError as exc:
        return _render(case, 422, form=request.form, errors={"opinion": exc.message})
    flash(_("审查结论已提交。"), "success")
    return redirect(url_for("review.inbox"))


@bp.post("/cases/<number>/return")
@require_role("officer")
def return_for_supplement(number):
    case = _case_for_my_departments(number)
    try:
        review.return_for_supplement(
            case.id,
            current_user,
            posted_version(),
            posted_supplement_items(case.item),
            due=posted_supplement_due(),
            note=request.form.get("note_to_applicant"),
            step_id=_step_id(),
        )
    except cases.StaleCase as exc:
        flash(exc.message, "error")
        return redirect(url_for("review.case", number=number))
    except cases.CaseError as exc:
        return _render(case, 422, form=request.form, errors={"supplement": exc.message})
    flash(_("已退回窗口补正，办理时限暂停计算。"), "success")
    return redirect(url_for("review.inbox"))
