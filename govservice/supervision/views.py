"""电子监察: the supervisors' dashboard and its CSV export, rectification tasks, and the
administrator's holiday entries."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..calendar import services as calendar
from ..cases.forms import posted_version
from ..core import clock
from ..identity.access import require_role
from . import cards, figures, services

bp = Blueprint("supervision", __name__, url_prefix="/supervision")


def _period() -> tuple[figures.Period, str | None]:
    """The period from the query string; a bad date is explained and ignored."""
    values = {}
    for key in ("from", "to"):
        raw = (request.args.get(key) or "").strip()
        if raw:
            try:
                values[key] = date.fromisoformat(raw)
            except ValueError:
                return figures.Period(), _("日期格式不正确，请按“年-月-日”填写（如 2026-11-01）。")
    period = figures.Period(values.get("from"), values.get("to"))
    if period.start and period.end and period.start > period.end:
        return figures.Period(), _("开始日期不能晚于结束日期。")
    return period, None


@bp.get("/")
@require_role("supervisor", "admin")
def dashboard():
    period, problem = _period()
    data = figures.compute(
        services.scope(current_user),
        period,
        overdue_token=request.args.get("overdue"),
        soon_token=request.args.get("soon"),
    )
    rating_rows = [(_("%(n)s分", n=stars), count) for stars, count in data.rating_counts]
    return render_template(
        "supervision/dashboard.html",
        f=data,
        period=period,
        problem=problem,
        bars=figures.bars,
        rating_rows=rating_rows,
        today=clock.today(),
        trends=cards.trends(current_user),
    ), (422 if problem else 200)


@bp.get("/export/<kind>.csv")
@require_role("supervisor", "admin")
def export(kind):
    if kind not in ("cases", "summary"):
        abort(404)
    period, problem = _period()
    if problem:
        flash(problem, "error")
        return redirect(url_for("supervision.dashboard"))
    scope = services.scope(current_user)
    if kind == "cases":  # streamed: a million rows never sit in memory
        body = stream_with_context(figures.cases_csv(figures.case_rows(scope, period)))
    else:
        body = figures.summary_csv(figures.compute(scope, period))
    name = f"supervision-{kind}-{clock.today().isoformat()}.csv"
    return Response(
        body, mimetype="text/csv; charset=utf-8", headers={"Content-Disposition": f"attachment; filename={name}"}
    )


@bp.get("/rectifications")
@require_role("supervisor", "admin")
def rectifications():
    return render_template(
        "supervision/rectifications.html",
        tasks=services.rectification_page(current_user, request.args.get("page")),
        today=clock.today(),
        errors={},
    )


@bp.post("/rectifications/<int:task_id>/answer")
@require_role("supervisor")
def answer(task_id):
    try:
        services.answer_rectification(task_id, current_user, posted_version(), request.form.get("answer", ""))
    except services.SupervisionError as exc:
        return render_template(
            "supervision/rectifications.html",
            tasks=services.rectification_page(current_user, request.args.get("page")),
            today=clock.today(),
            errors={task_id: exc.message},
            typed={task_id: request.form.get("answer", "")},
        ), 422
    flash(_("整改情况已答复。"), "success")
    return redirect(url_for("supervision.rectifications"))


@bp.route("/holidays", methods=["GET", "POST"])
@require_role("admin")
def holidays():
    error = None
    if request.method == "POST":
        try:
            raw = (request.form.get("day") or "").strip()
            try:
                day = date.fromisoformat(raw)
            except ValueError:
                raise calendar.CalendarError(_("日期格式不正确，请按“年-月-日”填写（如 2027-10-01）。")) from None
            if request.form.get("remove"):
                calendar.remove_holiday(current_user, day)
                flash(_("已删除 %(day)s。", day=day.isoformat()), "success")
            else:
                calendar.add_holiday(
                    current_user, day, request.form.get("name", ""), working=request.form.get("working") == "1"
                )
                flash(_("已录入 %(day)s。", day=day.isoformat()), "success")
            return redirect(url_for("supervision.holidays"))
        except calendar.CalendarError as exc:
            error = exc.message
    return render_template("supervision/holidays.html", holidays=calendar.holidays(), error=error, form=request.form), (
        422 if error else 200
    )
