"""The general window (综合窗口): the queue, identifying the applicant, intake on their behalf,
pre-review with its three outcomes (受理, 一次性告知, 不予受理) and their printed notices, the
supplement received at the counter, 出件, and the rating given at the window."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import access
from ..cases import queries
from ..cases import services as cases
from ..cases.applying import readonly_fields
from ..cases.forms import application_form, posted_supplement_due, posted_supplement_items, posted_version, values
from ..cases.statemachine import label as state_label
from ..cases.statemachine import step_label
from ..cases.uploads import Upload, UploadRefused
from ..catalog import services as catalog
from ..core.extensions import csrf, limiter
from ..identity.access import require_role
from ..supervision import services as supervision
from . import credit_checks, documents, services

bp = Blueprint("window", __name__, url_prefix="/window")
WINDOW = frozenset({access.Relation.WINDOW})


def _case(number):
    """The case, if this clerk's window may see it (govservice.access; a GET is an audited read)."""
    return access.case_for(current_user, number, only=WINDOW, audit_read=request.method == "GET")[0]


# --- The console and the queue ----------------------------------------------------------------


@bp.get("/")
@require_role("clerk")
def queue():
    done = cases.find_case(request.args.get("done", "")) if request.args.get("done") else None
    args = request.args
    clerk = current_user._get_current_object()
    return render_template(
        "window/queue.html",
        cases=queries.intake_queue(args.get("queue"), viewer=clerk),
        supplements=queries.awaiting_supplement(args.get("supplements"), viewer=clerk),
        to_hand_over=queries.awaiting_hand_over(args.get("hand_over"), viewer=clerk),
        waiting=services.waiting(current_user),
        serving=services.serving(current_user),
        state_label=state_label,
        done=done,
        notice=done.documents[-1] if done and done.documents else None,
    )


@bp.get("/find")
@require_role("clerk")
def find():
    number = (request.args.get("number") or "").strip()
    if cases.find_case(number) is None:
        flash(_("没有找到办件编号为“%(number)s”的办件。", number=number), "error")
        return redirect(url_for("window.queue"))
    return redirect(url_for("window.case", number=number))


@bp.post("/call")
@require_role("clerk")
def call_next():
    try:
        ticket = services.call_next(current_user)
    except services.WindowError as exc:
        flash(exc.message, "info")
        return redirect(url_for("window.queue"))
    flash(_("请 %(number)s 号到窗口办理。", number=ticket.number), "success")
    return redirect(url_for("window.ticket", ticket_id=ticket.id))


def _ticket(ticket_id):
    try:
        return services.ticket_for(current_user, ticket_id)
    except services.WindowError:
        abort(404)


def _items_for_people():
    """What the counter files for a person identified there (a business's items need its agent online)."""
    return [i for i in catalog.list_items() if i.audience != "enterprise"]


@bp.get("/tickets/<int:ticket_id>")
@require_role("clerk")
def ticket(ticket_id):
    ticket = _ticket(ticket_id)
    return render_template(
        "window/ticket.html",
        ticket=ticket,
        items=_items_for_people(),
        cases=services.cases_of_ticket(ticket),
        state_label=state_label,
        open_cases=services.open_cases(ticket.person) if ticket.person else [],
    )


@bp.post("/tickets/<int:ticket_id>/identify")
@require_role("clerk")
def identify(ticket_id):
    ticket = _ticket(ticket_id)
    try:
        person = services.identify(current_user, ticket.id, request.form.get("id_number", ""))
    except services.WindowError as exc:
        return render_template(
            "window/ticket.html",
            ticket=ticket,
            items=_items_for_people(),
            cases=services.cases_of_ticket(ticket),
            state_label=state_label,
            id_error=exc.message,
            id_number=request.form.get("id_number", ""),
        ), 422
    flash(_("已核验申请人身份：%(name)s。", name=person.name), "success")
    return redirect(url_for("window.ticket", ticket_id=ticket.id))


@bp.post("/tickets/<int:ticket_id>/finish")
@require_role("clerk")
def finish(ticket_id):
    absent = request.form.get("absent") == "1"
    try:
        ticket = services.finish(current_user, ticket_id, absent=absent)
        flash(
            _("%(number)s 号已过号。", number=ticket.number)
            if absent
            else _("%(number)s 号已办结。", number=ticket.number),
            "success",
        )
    except services.WindowError as exc:
        flash(exc.message, "error")
    return redirect(url_for("window.queue"))


@bp.get("/tickets/<int:ticket_id>/apply")
@require_role("clerk")
def choose(ticket_id):
    ticket = _ticket(ticket_id)
    code = request.args.get("code", "")
    if catalog.current_item(code) is None:
        flash(_("请选择事项。"), "error")
        return redirect(url_for("window.ticket", ticket_id=ticket.id))
    return redirect(url_for("window.intake", ticket_id=ticket.id, code=code))


@bp.route("/tickets/<int:ticket_id>/apply/<code>", methods=["GET", "POST"])
@require_role("clerk")
def intake(ticket_id, code):
    ticket = _ticket(ticket_id)
    if ticket.person is None:
        flash(_("请先核验申请人身份。"), "error")
        return redirect(url_for("window.ticket", ticket_id=ticket.id))
    item = catalog.current_item(code) or abort(404)
    found = services.prefill(current_user, ticket.person, item)
    prefill = found.values
    readonly = readonly_fields(item, found)
    form = application_form(item, prefill)
    for material in item.materials:  # at the window a missing material is for pre-review to tell
        field = form[f"material_{material['code']}"]
        field.validators, field.flags.required = [], False
    if form.validate_on_submit():
        data = values(form, item)
        for name in readonly:  # what the registry answered, not what the browser sent
            data[name] = prefill[name]
        files = [
            Upload(m["code"], f.filename or "", f.read())
            for m in item.materials
            if (f := form[f"material_{m['code']}"].data) is not None and f.filename
        ]
        try:
            case, created = services.intake(current_user, ticket.id, item, data, files, form.idempotency_key.data)
        except UploadRefused as exc:
            code_of = {m["name"]: m["code"] for m in item.materials}
            form[f"material_{code_of[exc.material_name]}"].errors.append(exc.reason)
        except (cases.CaseError, services.WindowError) as exc:
            flash(exc.message, "error")
        else:
            flash(
                _("已收件，办件编号 %(number)s。请核对材料后作出受理、补正告知或不予受理。", number=case.number)
                if created
                else _("该申请已提交过，未重复创建。"),
                "success" if created else "info",
            )
            return redirect(url_for("window.case", number=case.number))
    elif request.method == "POST":
        flash(_("未收件：请按提示修改标出的内容。"), "error")
    return render_template(
        "window/intake.html", ticket=ticket, item=item, form=form, readonly=readonly, notices=found.notices
    ), (422 if request.method == "POST" else 200)


# --- The hall's ticket machine (取号) -------------------------------------------------------------


@bp.route("/kiosk/<hall_code>", methods=["GET", "POST"])
@limiter.limit("30/minute", methods=["POST"])
@csrf.exempt  # anyone in the hall takes a number; a CSRF token would give every passer-by a session
def kiosk(hall_code):
    hall = services.hall(hall_code) or abort(404)
    ticket = None
    if request.method == "POST":
        ticket = services.issue_ticket(hall.code)
    return render_template("window/kiosk.html", hall=hall, ticket=ticket)


# --- Pre-review and its outcomes ------------------------------------------------------------------


def _render_case(case, status=200, **extra):
    hall = services.clerk_halls(current_user)
    return render_template(
        "window/case.html",
        case=case,
        state_label=state_label,
        step_label=step_label,
        checklist=_checklist(case),
        credit=services.credit_checks_for(case, current_user),
        pending=cases.pending_supplement(case),
        default_due=cases.supplement_due(None),
        hall=hall[0] if hall else None,
        form=extra.pop("form", {}),
        errors=extra.pop("errors", {}),
        **extra,
    ), status


def _checklist(case):
    given = {}
    for a in case.attachments:
        given.setdefault(a.material_code, []).append(a)
    missing = set(cases.missing_materials(case))
    offered = cases.offered_certificates(case)
    return [
        {
            "material": m,
            "files": given.get(m["code"], []),
            "missing": m["name"] in missing,
            "certificate": offered.get(m["code"]),
        }
        for m in case.item.materials
    ]


@bp.get("/cases/<number>")
@require_role("clerk")
def case(number):
    return _render_case(_case(number))


@bp.post("/cases/<number>/accept")
@require_role("clerk")
def accept(number):
    case = _case(number)
    try:
        case = services.accept(current_user, case, posted_version(), acknowledged=request.form.get("credit_ack") == "1")
    except (cases.CaseError, services.WindowError) as exc:
        flash(exc.message, "error")
        return redirect(url_for("window.case", number=number))
    flash(
        _(
            "已受理办件 %(number)s，办理时限至 %(deadline)s。请打印受理通知书交申请人。",
            number=case.number,
            deadline=case.deadline.isoformat(),
        ),
        "success",
    )
    return redirect(url_for("window.queue", done=number))


@bp.post("/cases/<number>/supplement")
@require_role("clerk")
def request_supplement(number):
    case = _case(number)
    try:
        cases.request_supplement(
            case.id,
            current_user,
            posted_version(),
            posted_supplement_items(case.item),
            due=posted_supplement_due(),
            note=request.form.get("note"),
        )
    except cases.StaleCase as exc:
        flash(exc.message, "error")
        return redirect(url_for("window.case", number=number))
    except cases.CaseError as exc:
        return _render_case(case, 422, form=request.form, errors={"supplement": exc.message})
    flash(_("已出具一次性告知书，请打印交申请人。"), "success")
    return redirect(url_for("window.queue", done=number))


@bp.route("/cases/<number>/refuse", methods=["GET", "POST"])
@require_role("clerk")
def refuse(number):
    """不予受理 on a page of its own: a decision that needs its reason and legal basis."""
    case = _case(number)
    if request.method == "GET":
        basis = credit_checks.refusal_basis(case)  # a credit refusal's legal basis, to start from
        return render_template(
            "window/refuse.html",
            case=case,
            state_label=state_label,
            pending=cases.pending_supplement(case),
            form={"basis": basis} if basis else {},
            errors={},
        )
    try:
        cases.not_accept(
            case.id,
            current_user,
            posted_version(),
            reason=request.form.get("reason", ""),
            basis=request.form.get("basis", ""),
        )
    except cases.StaleCase as exc:
        flash(exc.message, "error")
        return redirect(url_for("window.case", number=number))
    except cases.CaseError as exc:
        return render_template(
            "window/refuse.html",
            case=case,
            state_label=state_label,
            pending=cases.pending_supplement(case),
            form=request.form,
            errors={"refuse": exc.message},
        ), 422
    flash(_("已作出不予受理决定，请打印不予受理决定书交申请人。"), "success")
    return redirect(url_for("window.queue", done=number))


@bp.post("/cases/<number>/resubmit")
@require_role("clerk")
def resubmit(number):
    """补正材料窗口代收: the applicant brings what the notice asked for to the counter."""
    case = _case(number)
    files = [
        Upload(m["code"], f.filename or "", f.read())
        for m in case.item.materials
        if (f := request.files.get(f"material_{m['code']}")) is not None and f.filename
    ]
    try:
        cases.resubmit(case.id, current_user, posted_version(), files, note=request.form.get("answer_note"))
    except UploadRefused as exc:
        return _render_case(case, 422, form=request.form, errors={"resubmit": f"{exc.material_name}：{exc.reason}"})
    except cases.StaleCase as exc:
        flash(exc.message, "error")
        return redirect(url_for("window.case", number=number))
    except cases.CaseError as exc:
        return _render_case(case, 422, form=request.form, errors={"resubmit": exc.message})
    flash(_("补正材料已收取，请核验后受理。"), "success")
    return redirect(url_for("window.case", number=number))


@bp.post("/cases/<number>/hand-over")
@require_role("clerk")
def hand_over(number):
    case = _case(number)
    try:
        cases.hand_over(case.id, current_user, posted_version())
        flash(_("已出件：办理结果已交付申请人。"), "success")
    except cases.CaseError as exc:
        flash(exc.message, "error")
    return redirect(url_for("window.case", number=number))


@bp.post("/cases/<number>/evaluation")
@require_role("clerk")
def evaluate(number):
    """The applicant's rating given at the window (评价器), recorded by the clerk."""
    case = _case(number)
    try:
        supervision.evaluate(
            case.id, current_user, request.form.get("rating", ""), request.form.get("comment"), channel="window"
        )
    except supervision.SupervisionError as exc:
        return _render_case(case, 422, form=request.form, errors={"evaluation": exc.message})
    flash(_("已记录申请人的评价，谢谢。"), "success")
    return redirect(url_for("window.case", number=number))


# --- Printing the notices ------------------------------------------------------------------------


@bp.get("/cases/<number>/documents/<int:document_id>.pdf")
@login_required
def document(number, document_id):
    """The notice as PDF, for the window to print and for the applicant to download."""
    case, doc = access.document_for(current_user, number, document_id)
    issuer_halls = services.clerk_halls(doc.issued_by) if doc.issued_by else services.halls()
    pdf = documents.render(case, doc, hall_name=issuer_halls[0].name if issuer_halls else "")
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", download_name=documents.filename(case, doc))
