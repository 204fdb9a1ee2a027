"""网上信访 / 12345: submitting and following a request, the window's recording, the department's
handling (under /review), the published answers (public) and supervision's statistics."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import access
from ..cases.forms import posted_version
from ..core import clock
from ..identity.access import require_role
from ..supervision import services as supervision
from . import services

bp = Blueprint("petitions", __name__)


def _form_page(template, status=200, **context):
    return render_template(
        template,
        kinds=services.KINDS,
        departments=services.departments(),
        basis=services.BASIS,
        form=request.form,
        **context,
    ), status


def _submit(requester, clerk=None):
    return services.submit(
        requester,
        kind=request.form.get("kind", ""),
        title=request.form.get("title", ""),
        content=request.form.get("content", ""),
        department_code=request.form.get("department", ""),
        publish_consent=request.form.get("consent") == "1",
        clerk=clerk,
    )


@bp.route("/petitions/new", methods=["GET", "POST"])
@login_required
def new():
    if request.method == "POST":
        try:
            petition = _submit(current_user)
        except services.PetitionError as exc:
            return _form_page("petitions/new.html", 422, error=exc.message)
        flash(
            _(
                "诉求已提交，编号 %(number)s。受理部门将在 %(due)s 前告知是否受理。",
                number=petition.number,
                due=petition.due.isoformat(),
            ),
            "success",
        )
        return redirect(url_for("petitions.detail", number=petition.number))
    return _form_page("petitions/new.html")


@bp.get("/petitions/mine")
@login_required
def mine():
    return render_template(
        "petitions/mine.html",
        petitions=services.of_requester(current_user, request.args.get("page")),
        kinds=services.KINDS,
        states=services.STATES,
    )


def _petition(number):
    """The request, if govservice.access lets the signed-in person see it (staff reads audited)."""
    petition = None
    if isinstance(number, str) and 0 < len(number) <= 32:
        try:
            petition = services.get(number)
        except services.PetitionError:
            pass
    return access.petition_for(current_user, petition, audit_read=request.method == "GET")[0]


def _detail(petition, status=200, error=None):
    return render_template(
        "petitions/detail.html",
        p=petition,
        kinds=services.KINDS,
        states=services.STATES,
        may_handle=access.may_handle_petition(current_user, petition),
        error=error,
        form=request.form,
        today=clock.today(),
        max_extension=services.MAX_EXTENSION,
    ), status


@bp.get("/petitions/<number>")
@login_required
def detail(number):
    return _detail(_petition(number))


@bp.post("/petitions/<number>/rating")
@login_required
def rate(number):
    petition = _petition(number)
    try:
        services.rate(number, current_user, request.form.get("rating"), request.form.get("comment"))
    except services.PetitionError as exc:
        return _detail(petition, 422, exc.message)
    flash(_("感谢您的评价。"), "success")
    return redirect(url_for("petitions.detail", number=number))


@bp.get("/petitions/published")
def published():
    """Public: the requests published with their requesters' consent, with the answers."""
    return render_template(
        "petitions/published.html", petitions=services.published_page(request.args.get("page")), kinds=services.KINDS
    )


# --- the department (部门办理) --------------------------------------------------------------------


@bp.get("/review/petitions")
@require_role("officer")
def department():
    return render_template(
        "petitions/department.html",
        petitions=services.department_page(current_user, request.args.get("page")),
        kinds=services.KINDS,
        states=services.STATES,
        today=clock.today(),
    )


@bp.post("/review/petitions/<petition>/<any(accept, not_accept, extend, answer):action>")
@require_role("officer")
def handle(petition, action):
    number, petition = petition, _petition(petition)
    form, version = request.form, posted_version()
    try:
        if action == "accept":
            services.accept(number, current_user, version)
        elif action == "not_accept":
            services.not_accept(number, current_user, version, form.get("reason", ""))
        elif action == "extend":
            services.extend(number, current_user, version, form.get("days"), form.get("reason", ""))
        else:
            services.answer(number, current_user, version, form.get("answer", ""), publish=form.get("publish") == "1")
    except services.PetitionError as exc:
        return _detail(petition, 422, exc.message)
    flash(
        {
            "accept": _("已受理。"),
            "not_accept": _("已告知不予受理。"),
            "extend": _("已延长办理期限并告知诉求人。"),
            "answer": _("已答复。"),
        }[action],
        "success",
    )
    return redirect(url_for("petitions.detail", number=number))


# --- the window (窗口登记) ------------------------------------------------------------------------


@bp.route("/window/petitions/new", methods=["GET", "POST"])
@require_role("clerk")
def window_new():
    if request.method == "POST":
        from ..window import services as window

        try:
            requester = window.person_at_counter(current_user, request.form.get("id_number", ""))
            petition = _submit(requester, clerk=current_user)
        except (services.PetitionError, window.WindowError) as exc:
            return _form_page("petitions/window.html", 422, error=exc.message)
        flash(_("已登记诉求 %(number)s。", number=petition.number), "success")
        return redirect(url_for("petitions.detail", number=petition.number))
    return _form_page("petitions/window.html")


# --- supervision (统计) ---------------------------------------------------------------------------


@bp.get("/supervision/petitions")
@require_role("supervisor", "admin")
def statistics():
    return render_template(
        "petitions/statistics.html",
        s=services.statistics(supervision.scope(current_user)),
        kinds=services.KINDS,
        states=services.STATES,
    )
