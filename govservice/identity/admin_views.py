"""系统管理 · 工作人员: the staff mapping (role, department, hall), kept by administrators."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..core.extensions import db
from . import staff
from .access import require_role
from .forms import StaffAssignForm
from .models import Department, ServiceHall

bp = Blueprint("staff_admin", __name__, url_prefix="/admin/staff")


@bp.route("/", methods=["GET", "POST"])
@require_role("admin")
def index():
    admin = current_user._get_current_object()
    departments = list(db.session.execute(select(Department).order_by(Department.id)).scalars())
    halls = list(db.session.execute(select(ServiceHall).order_by(ServiceHall.id)).scalars())
    form = StaffAssignForm()
    form.set_choices(departments, halls)
    if form.validate_on_submit():
        try:
            assignment = staff.assign(
                admin,
                form.id_number.data,
                form.name.data,
                form.role.data,
                form.department.data or None,
                form.hall.data or None,
            )
        except staff.StaffError as exc:
            flash(exc.message, "error")
        else:
            flash(
                _(
                    "已为 %(name)s 开通%(role)s角色。",
                    name=assignment.person.masked_name,
                    role=staff.role_label(assignment.role),
                ),
                "success",
            )
            return redirect(url_for("staff_admin.index"))
    elif request.method == "POST":
        flash(_("未保存：请按提示修改标出的内容。"), "error")
    return render_template(
        "identity/admin_staff.html",
        form=form,
        assignments=staff.assignments_page(request.args.get("page")),
        may_manage=lambda a: staff.may_manage(admin, a.role, a.department_id),
    ), (422 if request.method == "POST" else 200)


@bp.post("/<int:assignment_id>/revoke")
@require_role("admin")
def revoke(assignment_id):
    try:
        name, role = staff.revoke(current_user._get_current_object(), assignment_id)
    except staff.StaffError as exc:
        flash(exc.message, "error")
    else:
        flash(_("已撤销 %(name)s 的%(role)s角色，立即生效。", name=name, role=staff.role_label(role)), "success")
    return redirect(url_for("staff_admin.index"))
