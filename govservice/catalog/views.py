"""The service catalogue: finding a service, each item's guide (办事指南), the blank form as a PDF
(表格下载), and online consultation (网上咨询)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..core.extensions import limiter
from ..identity.access import current_actor, require_role
from . import blankform, consultations, services
from .definitions import LIFE_EVENTS

bp = Blueprint("catalog", __name__, url_prefix="/items")
AUDIENCES = ("person", "enterprise")


@bp.get("/")
def index():
    query = (request.args.get("q") or "").strip()[:100]
    department = request.args.get("department") or None
    event = request.args.get("event") or None
    audience = request.args.get("audience") if request.args.get("audience") in AUDIENCES else None
    actor = current_actor()
    if audience is None and actor is not None and actor.enterprise is not None:
        audience = "enterprise"  # acting for a business: its items, not the person-only ones
    if event not in LIFE_EVENTS:
        event = None
    found = services.search(query, department=department, event=event, audience=audience)
    return render_template(
        "catalog/index.html",
        items=found.items,
        suggestion=found.suggestion,
        query=query,
        department=department,
        event=event,
        audience=audience,
        facets=services.facets(),
        filtered=bool(query or department or event or audience),
    )


def _guide_page(item, question="", **extra):
    """The guide (办事指南) with its consultations: the published answers and, signed in, my own."""
    return render_template(
        "catalog/guide.html",
        item=item,
        joint=services.joint_departments(item),
        steps=services.workflow_steps(item),
        result_name=services.result_name(item),
        certificate_type_name=services.certificate_type_name,
        faq=consultations.published_faq(item.code),
        mine=consultations.asked_by(current_user, item.code) if current_user.is_authenticated else [],
        question=question,
        **extra,
    )


@bp.get("/<code>")
def guide(code):
    return _guide_page(services.current_item(code) or abort(404))


@bp.get("/<code>/form.pdf")
def blank_form(code):
    item = services.current_item(code) or abort(404)
    pdf = blankform.render(item, item.department.name)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"attachment; filename={item.code}-v{item.version}.pdf"},
    )


@bp.post("/<code>/consult")
@login_required
@limiter.limit("20/hour")
def consult(code):
    item = services.current_item(code) or abort(404)
    question = request.form.get("question", "")
    try:
        consultations.ask(current_user, item, question)
    except consultations.ConsultationError as exc:
        flash(exc.message, "error")
        return _guide_page(item, question, question_error=exc.message), 422
    flash(_("您的问题已提交，答复后将通知您。"), "success")
    return redirect(url_for("catalog.guide", code=code) + "#consultation")


@bp.get("/consultations")
@require_role("officer")
def consultation_inbox():
    return render_template(
        "catalog/consultations.html",
        consultations=consultations.inbox(current_user),
        items={i.code: i for i in services.list_items()},
    )


@bp.post("/consultations/<int:consultation_id>")
@require_role("officer")
def answer(consultation_id):
    try:
        consultations.answer(
            current_user,
            consultation_id,
            request.form.get("answer", ""),
            publish=bool(request.form.get("publish")),
            public_question=request.form.get("public_question"),
        )
    except consultations.ConsultationError as exc:
        flash(exc.message, "error")
    else:
        flash(_("答复已保存。"), "success")
    return redirect(url_for("catalog.consultation_inbox") + f"#c-{consultation_id}")
