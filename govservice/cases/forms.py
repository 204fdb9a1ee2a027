"""Application forms generated from an item's field definitions (WTForms)."""
from __future__ import annotations

import re
import uuid

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, DecimalField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from ..identity.idnumbers import InvalidNumber, normalise_credit_code, normalise_id_number

PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def _number_check(normalise):
    def check(form, field):
        if field.data:
            try:
                field.data = normalise(field.data)
            except InvalidNumber as exc:
                raise ValidationError(str(exc.message)) from None
    return check


def _field(spec: dict):
    required = [DataRequired(message=f"请填写{spec['label']}。")] if spec.get("required") else [Optional()]
    kind, label = spec["type"], spec["label"]
    extra = {"description": spec.get("help", "")}
    if kind in ("text", "textarea"):
        cls = TextAreaField if kind == "textarea" else StringField
        length = [Length(max=spec["max_length"], message=f"{label}不能超过{spec['max_length']}个字。")] \
            if spec.get("max_length") else []
        return cls(label, validators=required + length, **extra)
    if kind == "choice":
        choices = [("", "请选择")] + [(c, c) for c in spec["choices"]]
        return SelectField(label, choices=choices, validators=required, **extra)
    if kind in ("decimal", "integer"):
        cls = DecimalField if kind == "decimal" else IntegerField
        bounds = NumberRange(min=spec.get("min"), max=spec.get("max"),
                             message=f"{label}应在 {spec.get('min', '')} 到 {spec.get('max', '')} 之间。")
        return cls(label, validators=required + [bounds], **extra)
    if kind == "date":
        return DateField(label, validators=required, **extra)
    if kind == "id_number":
        return StringField(label, validators=required + [_number_check(normalise_id_number)], **extra)
    if kind == "credit_code":
        return StringField(label, validators=required + [_number_check(normalise_credit_code)], **extra)
    if kind == "phone":
        return StringField(label, validators=required + [Regexp(PHONE, message="请填写正确的手机号码或固定电话。")],
                           **extra)
    raise ValueError(f"unknown field type {kind}")


def application_form(item, prefill: dict):
    """This item version's form: bound to the request on POST, pre-filled on GET."""

    class ApplicationForm(FlaskForm):
        idempotency_key = HiddenField()

    for spec in item.fields:
        setattr(ApplicationForm, spec["name"], _field(spec))
    for material in item.materials:
        validators = [FileRequired(message=f"请上传{material['name']}。")] if material.get("required") else []
        setattr(ApplicationForm, f"material_{material['code']}",
                FileField(material["name"], validators=validators, description=material.get("note", "")))
    return ApplicationForm(**prefill, idempotency_key=uuid.uuid4().hex)


def values(form, item) -> dict:
    """The typed answers as JSON-safe values."""
    out = {}
    for spec in item.fields:
        value = getattr(form, spec["name"]).data
        if value is None or value == "":
            continue
        out[spec["name"]] = str(value) if not isinstance(value, (str, int)) else value
    return out
