"""Applicants: applying online, 我的办件, a case's timeline."""
from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from ..catalog import services as catalog
from ..certificates import services as certificates
from . import services
from .forms import application_form, values
from .models import Case
from .statemachine import label as state_label
from .uploads import Upload, UploadRefused

bp = Blueprint("cases", __name__)


def _prefill_sources(person) -> dict:
    return {"person.name": person.name, "person.id_number": person.id_number, "person.phone": person.phone}


@bp.route("/apply/<code>", methods=["GET", "POST"])
@login_required
def apply(code):
    item = catalog.current_item(code) or abort(404)
    sources = _prefill_sources(current_user)
    prefill = {f["name"]: sources.get(f.get("prefill")) for f in item.fields if f.get("prefill")}
    form = application_form(item, prefill)
    if form.validate_on_submit():
        data = values(form, item)
        for spec in item.fields:  # read-only pre-filled values come from the login, never the browser
            if spec.get("readonly") and spec.get("prefill"):
                data[spec["name"]] = prefill[spec["name"]]
        files = [Upload(m["code"], f.filename or "", f.read())
                 for m in item.materials
                 if (f := getattr(form, f"material_{m['code']}").data) is not None and f.filename]
        try:
            case, created = services.submit_application(current_user, item, data, files, form.idempotency_key.data)
        except UploadRefused as exc:
            code_of = {m["name"]: m["code"] for m in item.materials}
            getattr(form, f"material_{code_of[exc.material_name]}").errors.append(exc.reason)
        except services.CaseError as exc:
            flash(exc.message, "error")
        else:
            if created:
                flash(f"申请已提交，办件编号 {case.number}。", "success")
            else:
                flash("该申请已提交过，未重复创建。", "info")
            return redirect(url_for("cases.detail", number=case.number))
    elif request.method == "POST":
        flash("申请未提交：请按提示修改标出的内容。", "error")
    readonly = {f["name"] for f in item.fields if f.get("readonly")}
    return render_template("cases/apply.html", item=item, form=form, readonly=readonly), \
        (422 if request.method == "POST" else 200)


@bp.get("/cases")
@login_required
def mine():
    return render_template("cases/list.html", cases=services.cases_of(current_user), state_label=state_label)


def _case_for_viewer(number) -> Case:
    case = services.find_case(number) or abort(404)
    if not services.can_view(current_user, case):
        abort(403)
    return case


@bp.get("/cases/<number>")
@login_required
def detail(number):
    case = _case_for_viewer(number)
    return render_template("cases/detail.html", case=case, state_label=state_label,
                           certificates=certificates.for_case(case))


@bp.post("/cases/<number>/withdraw")
@login_required
def withdraw(number):
    case = _case_for_viewer(number)
    try:
        services.transition(case.id, "withdraw", current_user, request.form.get("version", -1, type=int),
                            note=request.form.get("reason") or None)
        flash("申请已撤回。", "success")
    except services.CaseError as exc:
        flash(exc.message, "error")
    return redirect(url_for("cases.detail", number=number))


@bp.get("/cases/<number>/attachments/<int:attachment_id>")
@login_required
def attachment(number, attachment_id):
    case = _case_for_viewer(number)
    try:
        meta, data = services.attachment_for(case, attachment_id)
    except services.CaseError:
        abort(404)
    return send_file(io.BytesIO(data), mimetype=meta.content_type, download_name=meta.filename, as_attachment=True)
