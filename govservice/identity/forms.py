"""Forms of the identity pages: authorising an agent, keeping the staff mapping.

They only parse; the rules (valid numbers, bindings, who may) are the services'.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from .models import ROLES
from .staff import role_label


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AgentGrantForm(FlaskForm):
    agent_id_number = StringField(
        _l("经办人身份证号码"), validators=[DataRequired(_l("请填写经办人身份证号码。")), Length(max=20)]
    )
    agent_name = StringField(_l("经办人姓名"), validators=[DataRequired(_l("请填写经办人姓名。")), Length(max=50)])
    scope = RadioField(
        _l("授权范围"),
        choices=[("all", _l("全部事项")), ("items", _l("指定事项"))],
        default="all",
        validators=[DataRequired(_l("请选择授权范围。"))],
    )
    items = CheckboxesField(_l("指定事项"), choices=[], validate_choice=False)
    valid_until = DateField(
        _l("授权截止日期"),
        validators=[DataRequired(_l("请填写有效的授权截止日期。"))],
        description=_l("含当日；最长3年，可随时撤销。"),
    )

    def set_items(self, items) -> None:
        self.items.choices = [(item.code, item.name) for item in items]


class StaffAssignForm(FlaskForm):
    id_number = StringField(_l("身份证号码"), validators=[DataRequired(_l("请填写身份证号码。")), Length(max=20)])
    name = StringField(_l("姓名"), validators=[DataRequired(_l("请填写姓名。")), Length(max=50)])
    # The choices are checked by the service, which says what is wrong in Chinese.
    role = SelectField(_l("角色"), choices=[], validators=[DataRequired(_l("请选择角色。"))], validate_choice=False)
    department = SelectField(
        _l("所属部门"),
        choices=[],
        validators=[Optional()],
        validate_choice=False,
        description=_l("审批人员必填；督办人员、管理员不填表示全部部门。"),
    )
    hall = SelectField(
        _l("所属大厅"), choices=[], validators=[Optional()], validate_choice=False, description=_l("窗口工作人员必填。")
    )

    def set_choices(self, departments, halls) -> None:
        self.role.choices = [(role, role_label(role)) for role in ROLES]
        self.department.choices = [("", _l("（不限）"))] + [(d.code, d.name) for d in departments]
        self.hall.choices = [("", _l("（不限）"))] + [(h.code, h.name) for h in halls]
