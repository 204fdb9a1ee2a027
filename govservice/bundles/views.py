"""一件事一次办: the bundles, applying with one form, the one progress view, and the window's
one acceptance (under /window, for clerks)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import access
from ..cases.forms import application_form, values
from ..cases.statemachine import label as state_label
from ..cases.uploads import Upload, UploadRefused
from ..identity.access import current_level, require_role
from . import services

bp = Blueprint("bundles", __name__)


@bp.get("/bundles/")
def index():
    """Public: what bundles there are and what each does (no session is made for it)."""
    return render_template(
        "bundles/index.html",
        bundles=services.definitions().values(),
        mine=services.of_applicant(current_user) if current_user.is_authenticated else [],
    )


@bp.route("/bundles/<code>/apply", methods=["GET", "POST"])
@login_required
def apply(code):
    bundle = services.definition(code) or abort(404)
    level = services.level_needed(bundle)
    if current_level() < level:
        return redirect(url_for("identity.step_up", level=level, next=request.path))
    spec = services.form_spec(bundle)
    form = application_form(spec, services.prefill(current_user, spec))
    if form.validate_on_submit():
        files = [
            Upload(m["code"], f.filename or "", f.read())
            for m in spec.materials
            if (f := form[f"material_{m['code']}"].data) is not None and getattr(f, "filename", None)
        ]
        try:
            result = services.submit(current_user, code, values(form, spec), files, form.idempotency_key.data)
        except UploadRefused as exc:
            flash(f"{exc.material_name}：{exc.reason}", "error")
        except services.BundleError as exc:
            flash(exc.message, "error")
        else:
            for name, reason in result.failures:
                flash(_("“%(item)s”未能提交：%(reason)s。其他事项已提交。", item=name, reason=reason), "error")
            if result.created:
                flash(_("“%(name)s”已提交，请到综合窗口一次受理。", name=bundle.name), "success")
            return redirect(url_for("bundles.detail", bundle_id=result.bundle.id))
    elif request.method == "POST":
        flash(_("未提交：请按提示修改标出的内容。"), "error")
    readonly = {f["name"] for f in spec.fields if f.get("readonly")}
    return render_template(
        "bundles/apply.html", bundle=bundle, spec=spec, form=form, readonly=readonly, items=services.items_of(bundle)
    ), (422 if request.method == "POST" else 200)


def _bundle(bundle_id):
    """The bundle, if govservice.access lets the signed-in person see it (staff reads audited)."""
    try:
        bundle = services.get(bundle_id)
    except services.BundleError:
        bundle = None
    return access.bundle_for(current_user, bundle)[0]


@bp.get("/bundles/mine/<int:bundle_id>")
@login_required
def detail(bundle_id):
    return render_template(
        "bundles/detail.html", bundle=_bundle(bundle_id), state_label=state_label, status_labels=services.STATUS_LABELS
    )


@bp.route("/window/bundles/<int:bundle_id>", methods=["GET", "POST"])
@require_role("clerk")
def window(bundle_id):
    bundle = _bundle(bundle_id)
    if request.method == "POST":
        try:
            accepted = services.accept(current_user, bundle.id, acknowledged=request.form.get("credit_ack") == "1")
        except services.BundleError as exc:
            flash(exc.message, "error")
        else:
            flash(
                _("已一次受理 %(n)s 件：%(numbers)s。", n=len(accepted), numbers="、".join(c.number for c in accepted)),
                "success",
            )
        return redirect(url_for("bundles.window", bundle_id=bundle.id))
    return render_template(
        "bundles/window.html", bundle=bundle, state_label=state_label, status_labels=services.STATUS_LABELS
    )
