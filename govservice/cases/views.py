"""Applicants: applying online (with pre-fill, held certificates and drafts), 我的办件, a case's
progress. Thin: parse the request, call `applying` / `services`, render."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from .. import access
from ..catalog import services as catalog
from ..identity.access import current_actor, current_level, require_item_access
from ..registry.services import SOURCE_LABELS
from . import applying, forms, progress, queries, services
from .forms import application_form, posted_version, raw_values, values
from .held import certificates as certificate_domain
from .models import Case
from .statemachine import label as state_label
from .uploads import Upload, UploadRefused

bp = Blueprint("cases", __name__)


def _acting() -> tuple:
    """(enterprise acted for or None, level of assurance of this sign-in): identity's 办事身份."""
    actor = current_actor()
    return (actor.enterprise if actor else None), current_level()


@bp.route("/apply/<code>", methods=["GET", "POST"])
@require_item_access("code")
def apply(code):
    item = catalog.current_item(code) or abort(404)
    enterprise, level = _acting()
    draft = applying.draft_for(current_user, request.values.get("draft", type=int))
    if draft is not None and (
        draft.item_code != item.code or draft.enterprise_uscc != (enterprise.uscc if enterprise else None)
    ):
        flash(_("该草稿属于另一个事项或另一个办事身份，已打开新的申请表。"), "info")
        draft = None
    try:
        context = applying.open_form(
            current_user,
            item,
            enterprise,
            level=level,
            record=request.method == "GET",
            licence=request.args.get("licence") if request.method == "GET" else None,
        )
    except services.CaseError as exc:
        flash(exc.message, "error")
        return redirect(url_for("catalog.guide", code=code))
    formdata = None
    if request.method == "GET" and draft is not None:
        saved = dict(draft.data)
        saved.update({f"cert_{code}": identifier for code, identifier in (draft.certificates or {}).items()})
        formdata = MultiDict(saved)
    kept = (draft.files or {}) if draft is not None else {}
    prefill = {**context.prefill.values, **context.licence_values}  # the licence picked fills what it holds
    form = application_form(item, prefill, formdata=formdata, held=context.held, kept=kept)
    status = 200
    if request.method == "POST" and request.form.get("action") == "save":
        try:
            draft, refused = applying.save_draft(
                current_user,
                item,
                raw_values(form, item),
                forms.uploaded_files(form, item),
                forms.chosen_certificates(form, item),
                enterprise=enterprise,
                level=level,
                draft_id=draft.id if draft else None,
            )
        except services.CaseError as exc:
            flash(exc.message, "error")
            status = 422
        else:
            kept = draft.files
            for exc in refused:
                forms.refuse_upload(form, item, exc)
            if refused:
                flash(_("草稿已保存，但有文件未通过检查，请按提示重新上传。"), "error")
                status = 422
            else:
                applying.record_form_lookups(current_user, context)
                flash(_("草稿已保存，可在“我的办件”中继续填写。"), "success")
                return redirect(url_for("cases.apply", code=code, draft=draft.id))
    elif form.validate_on_submit():
        try:
            case, created = applying.submit(
                current_user,
                item,
                values(form, item),
                forms.uploaded_files(form, item),
                forms.chosen_certificates(form, item),
                form.idempotency_key.data,
                enterprise=enterprise,
                level=level,
                draft_id=draft.id if draft else None,
                context=context,
            )
        except UploadRefused as exc:
            forms.refuse_upload(form, item, exc)
            status = 422
        except applying.LicenceError as exc:
            field = getattr(form, exc.field)
            field.errors = [*field.errors, exc.message]
            flash(_("申请未提交：请按提示修改标出的内容。"), "error")
            status = 422
        except services.CaseError as exc:
            flash(exc.message, "error")
            status = 422
        else:
            return redirect(forms.submitted_url("cases.detail", case, created))
    elif request.method == "POST":
        flash(_("申请未提交：请按提示修改标出的内容。"), "error")
        status = 422
    applying.record_form_lookups(current_user, context)  # the form goes back: audit its look-ups now
    return render_template(
        "cases/apply.html",
        item=item,
        form=form,
        context=context,
        draft=draft,
        kept=kept,
        readonly=applying.readonly_fields(item, context.prefill),
        sources={**context.prefill.sources, **dict.fromkeys(context.licence_values, "certificate")},
        source_labels=SOURCE_LABELS,
        certificate_type_name=catalog.certificate_type_name,
        licence_number=applying.licence_number,
    ), status


@bp.post("/drafts/<int:draft_id>/discard")
@login_required
def discard_draft(draft_id):
    try:
        applying.discard_draft(current_user, draft_id)
        flash(_("草稿已删除。"), "success")
    except services.CaseError as exc:
        flash(exc.message, "error")
    return redirect(url_for("cases.mine"))


@bp.get("/cases")
@login_required
def mine():
    cases = queries.cases_of(current_user, request.args.get("page"))
    names = {d.code: d.name for d in catalog.departments_by_code().values()}
    return render_template(
        "cases/list.html",
        cases=cases,
        drafts=queries.drafts_of(current_user, request.args.get("drafts")),
        state_label=state_label,
        progress={r.case.id: progress.of(r.case, days_left=r.days_left, department_names=names) for r in cases},
    )


def _case_for_viewer(number) -> Case:
    """The case, if govservice.access lets the signed-in person see it (staff reads audited)."""
    return access.case_for(current_user, number, audit_read=request.method == "GET")[0]


@bp.get("/cases/<number>")
@login_required
def detail(number):
    case = _case_for_viewer(number)
    return render_template(
        "cases/detail.html",
        case=case,
        acknowledgement=forms.submitted_notice(case),
        state_label=state_label,
        certificates=certificate_domain().for_case(case),
        progress=progress.of(case),
        source_labels=SOURCE_LABELS,
        certificate_type_name=catalog.certificate_type_name,
    )


@bp.post("/cases/<number>/withdraw")
@login_required
def withdraw(number):
    case = _case_for_viewer(number)
    try:
        services.transition(
            case.id, "withdraw", current_user, posted_version(), note=request.form.get("reason") or None
        )
        flash(_("申请已撤回。"), "success")
    except services.CaseError as exc:
        flash(exc.message, "error")
    return redirect(url_for("cases.detail", number=number))


@bp.post("/cases/<number>/personal-data")
@login_required
def reveal(number):
    """查看完整信息: the case's full ID and phone numbers, for a stated purpose (audited)."""
    case, relation = access.case_for(current_user, number, audit_read=False)
    try:
        shown = access.reveal(current_user, case, relation, request.form.get("purpose"))
    except access.PurposeMissing as exc:
        return render_template(
            "access/reveal.html", case=case, shown=None, error=exc.message, purpose=request.form.get("purpose", "")
        ), 422
    return render_template("access/reveal.html", case=case, shown=shown, purpose=request.form.get("purpose"))


@bp.get("/cases/<number>/attachments/<int:attachment_id>")
@login_required
def attachment(number, attachment_id):
    meta, data = access.attachment_for(current_user, number, attachment_id)
    return send_file(io.BytesIO(data), mimetype=meta.content_type, download_name=meta.filename, as_attachment=True)


# --- The applicant's answer to a supplement request, and the rating ------------------


@bp.post("/cases/<number>/supplement")
@login_required
def answer_supplement(number):
    """补正: upload what the 一次性告知书 lists, before its deadline."""
    from flask_babel import gettext as _

    case = _case_for_viewer(number)
    files = [
        Upload(m["code"], f.filename or "", f.read())
        for m in case.item.materials
        if (f := request.files.get(f"supplement_{m['code']}")) is not None and f.filename
    ]
    try:
        services.resubmit(case.id, current_user, posted_version(), files, note=request.form.get("answer_note"))
    except UploadRefused as exc:
        flash(f"{exc.material_name}：{exc.reason}", "error")
    except services.CaseError as exc:
        flash(exc.message, "error")
    else:
        flash(_("补正材料已提交，等待综合窗口核验。"), "success")
    return redirect(url_for("cases.detail", number=number) + "#supplement")


@bp.post("/cases/<number>/evaluation")
@login_required
def evaluate(number):
    """好差评: the applicant rates the completed case."""
    from flask_babel import gettext as _

    from ..supervision import services as supervision

    case = _case_for_viewer(number)
    try:
        supervision.evaluate(
            case.id, current_user, request.form.get("rating", ""), request.form.get("comment"), channel="online"
        )
    except supervision.SupervisionError as exc:
        flash(exc.message, "error")
    else:
        flash(_("感谢您的评价。"), "success")
    return redirect(url_for("cases.detail", number=number) + "#evaluation")
