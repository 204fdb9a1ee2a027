"""Application forms generated from an item's field definitions (WTForms).

Every rule in the item file becomes a validator with a Chinese message naming the field, so a
form with several mistakes shows each beside its field and keeps what was typed.
"""

from __future__ import annotations

import functools
import re
import uuid
from datetime import date

from babel import support
from flask import request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.i18n import messages_path
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from ..catalog.services import choice_labels, localised
from ..core import clock
from ..identity.idnumbers import InvalidNumber, normalise_credit_code, normalise_id_number
from ..security.text import clean_text
from .engine import CaseError

PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def posted_version() -> int:
    """The row version the page was rendered with (the optimistic lock); -1, which never
    matches, when the form did not send one."""
    return request.form.get("version", -1, type=int)


def posted_supplement_items(item) -> list[dict]:
    """一次性告知: the materials ticked on a supplement form (`need_<code>`, `reason_<code>`) and
    anything else named (`other_name`, `other_reason`); the service checks them."""
    items = [
        {"material": m["code"], "reason": request.form.get(f"reason_{m['code']}", "")}
        for m in item.materials
        if request.form.get(f"need_{m['code']}")
    ]
    other = (request.form.get("other_name") or "").strip()
    if other or (request.form.get("other_reason") or "").strip():
        items.append({"material": "", "name": other, "reason": request.form.get("other_reason", "")})
    return items


def posted_supplement_due() -> date | None:
    """The supplement's deadline typed on the form (`due`), None when left empty; a malformed
    date raises `CaseError`, which the page shows."""
    raw = (request.form.get("due") or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise CaseError(_("补正期限的日期格式不正确，请按“年-月-日”填写。")) from None


def _number_check(normalise):
    def check(form, field):
        if field.data:
            try:
                field.data = normalise(field.data)
            except InvalidNumber as exc:
                raise ValidationError(str(exc.message)) from None

    return check


def _not_future(label):
    def check(form, field):
        if isinstance(field.data, date) and field.data > clock.today():
            raise ValidationError(_("%(label)s不能晚于今天。", label=label))

    return check


def _field(spec: dict):
    kind, label = spec["type"], localised(spec, "label")
    message = _("请填写%(label)s。", label=label)
    if not spec.get("required"):
        required = [Optional()]
    elif kind in ("decimal", "integer"):  # 0 is an answer: DataRequired would refuse it as falsy
        required = [InputRequired(message=message)]
    else:
        required = [DataRequired(message=message)]
    # Bidi overrides and zero-width characters never reach the case (or a certificate made from it).
    extra = {"description": localised(spec, "help"), "filters": [clean_text]}
    rules = []
    if spec.get("max_length") or spec.get("min_length"):
        if spec.get("min_length") and spec.get("max_length"):
            message = _(
                "%(label)s应为%(min)s到%(max)s个字。", label=label, min=spec["min_length"], max=spec["max_length"]
            )
        elif spec.get("max_length"):
            message = _("%(label)s不能超过%(max)s个字。", label=label, max=spec["max_length"])
        else:
            message = _("%(label)s至少%(min)s个字。", label=label, min=spec["min_length"])
        rules.append(Length(min=spec.get("min_length", -1), max=spec.get("max_length", -1), message=message))
    if spec.get("pattern"):
        rules.append(Regexp(spec["pattern"], message=localised(spec, "pattern_message")))
    if kind in ("text", "textarea"):
        cls = TextAreaField if kind == "textarea" else StringField
        return cls(label, validators=required + rules, **extra)
    if kind == "choice":
        choices = [SelectChoice("", _("请选择"))] + [SelectChoice(value, shown) for value, shown in choice_labels(spec)]
        return _ChoiceField(label, choices=choices, validators=required, **extra)
    if kind in ("decimal", "integer"):
        cls = DecimalField if kind == "decimal" else IntegerField
        low, high = spec.get("min"), spec.get("max")
        if low is not None and high is not None:
            message = _("%(label)s应在 %(min)s 到 %(max)s 之间。", label=label, min=low, max=high)
        elif low is not None:
            message = _("%(label)s不能小于 %(min)s。", label=label, min=low)
        else:
            message = _("%(label)s不能大于 %(max)s。", label=label, max=high)
        bounds = [NumberRange(min=low, max=high, message=message)] if low is not None or high is not None else []
        invalid = _("%(label)s应为整数。", label=label) if kind == "integer" else _("%(label)s应为数字。", label=label)
        return _NumberField(cls, label, required + bounds, invalid, extra)
    if kind == "date":
        checks = [_not_future(label)] if spec.get("not_future") else []
        return _DateField(
            label, validators=required + checks, invalid=_("%(label)s不是有效的日期。", label=label), **extra
        )
    if kind == "id_number":
        return StringField(label, validators=required + [_number_check(normalise_id_number)], **extra)
    if kind == "credit_code":
        return StringField(label, validators=required + [_number_check(normalise_credit_code)], **extra)
    if kind == "phone":
        return StringField(
            label,
            validators=required + [Regexp(PHONE, message=_("请填写正确的手机号码或固定电话。"))],
            render_kw={"inputmode": "tel", "autocomplete": "tel"},
            **extra,
        )
    if kind == "email":
        return StringField(
            label,
            validators=required + [Email(message=_("请填写正确的电子邮箱地址。"), check_deliverability=False)],
            **extra,
        )
    raise ValueError(f"unknown field type {kind}")


class _ChoiceField(SelectField):
    def pre_validate(self, form):
        if self.data and self.data not in {c.value for c in self.choices}:
            raise ValidationError(_("请从列表中选择%(label)s。", label=self.label.text))


class _DateField(DateField):
    def __init__(self, *args, invalid: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.invalid = invalid

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(self.invalid) from None


def _NumberField(cls, label, validators, invalid, extra):
    class Number(cls):
        def process_formdata(self, valuelist):
            try:
                super().process_formdata(valuelist)
            except ValueError:
                raise ValueError(invalid) from None
            if self.process_errors:  # WTForms records rather than raises for some values
                self.process_errors = [invalid]

    return Number(label, validators=validators, **extra)


def _material_check(material: dict, kept: dict):
    """A required material needs a file, a file kept from the draft, or a held certificate."""

    def check(form, field):
        choice = getattr(form, f"cert_{material['code']}", None)
        if field.data is not None and getattr(field.data, "filename", ""):
            return
        if material["code"] in kept or (choice is not None and choice.data):
            return
        if material.get("required"):
            if choice is not None:
                raise ValidationError(_("请上传%(name)s，或选用您持有的电子证照。", name=localised(material, "name")))
            raise ValidationError(_("请上传%(name)s。", name=localised(material, "name")))

    return check


def application_form(
    item,
    prefill: dict,
    *,
    formdata=None,
    held: dict | None = None,
    kept: dict | None = None,
    idempotency_key: str | None = None,
):
    """This item version's form: bound to the request on POST, pre-filled on GET.

    `held` maps a material code to the applicant's usable certificates of the type that can
    replace it (免提交): the form offers them as a choice beside the upload. `kept` maps a
    material code to a file already saved with the draft. `formdata` resumes a draft.
    """
    held, kept = held or {}, kept or {}
    kwargs = dict(prefill)
    for spec in item.fields:  # a registry gives dates as ISO text; the date field wants a date
        if spec["type"] == "date" and isinstance(kwargs.get(spec["name"]), str):
            try:
                kwargs[spec["name"]] = date.fromisoformat(kwargs[spec["name"]])
            except ValueError:
                kwargs.pop(spec["name"])
    if formdata is not None:
        kwargs["formdata"] = formdata
    form = _form_class(item, held, kept)(**kwargs)
    if not form.idempotency_key.data:
        form.idempotency_key.data = idempotency_key or uuid.uuid4().hex
    return form


_FORM_CLASSES: dict = {}


@functools.cache
def _wtforms_messages(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


def _form_class(item, held: dict, kept: dict):
    """The form class of an item version in the current language. The common case (nothing held,
    nothing kept from a draft) is built once per process, not once per request: an item version
    never changes (a changed file makes a new version), and the key holds its fields' shape too."""
    key = (item.id, item.version, item.digest, str(get_locale())) if not any(held.values()) and not kept else None
    if key is not None and key in _FORM_CLASSES:
        return _FORM_CLASSES[key]

    class ApplicationForm(FlaskForm):
        idempotency_key = HiddenField()

        class Meta:
            # CSRFProtect checks the token of every POST before a view runs, and the page renders
            # it with csrf_token(): the form's own field would only sign a second token per POST
            csrf = False

            def get_translations(self, form):  # WTForms' own messages: Flask-WTF reads the file per request
                return _wtforms_messages(str(get_locale()))

    for spec in item.fields:
        setattr(ApplicationForm, spec["name"], _field(spec))
    for material in item.materials:
        code = material["code"]
        offered = held.get(code) or []
        if offered:
            choices = [SelectChoice("", _("上传文件"))] + [SelectChoice(c.identifier, c.identifier) for c in offered]
            setattr(
                ApplicationForm,
                f"cert_{code}",
                _CertificateChoice(localised(material, "name"), choices=choices, default=""),
            )
        setattr(
            ApplicationForm,
            f"material_{code}",
            FileField(
                localised(material, "name"),
                validators=[_material_check(material, kept)],
                description=localised(material, "note"),
            ),
        )
    if key is not None:
        _FORM_CLASSES[key] = ApplicationForm
    return ApplicationForm


class _CertificateChoice(RadioField):
    def pre_validate(self, form):
        if self.data and self.data not in {c.value for c in self.choices}:
            raise ValidationError(_("所选电子证照不可用，请重新选择或上传文件。"))


def values(form, item) -> dict:
    """The typed answers as JSON-safe values."""
    out = {}
    for spec in item.fields:
        value = getattr(form, spec["name"]).data
        if value is None or value == "":
            continue
        if isinstance(value, date):
            value = value.isoformat()
        out[spec["name"]] = str(value) if not isinstance(value, (str, int)) else value
    return out


def raw_values(form, item) -> dict:
    """What was typed, as typed (for a draft: even values that do not validate yet)."""
    out = {}
    for spec in item.fields:
        field = getattr(form, spec["name"])
        raw = field.raw_data[0] if field.raw_data else None
        if raw not in (None, ""):
            out[spec["name"]] = str(raw)[:2000]
    return out


# --- what an application form carries besides its answers (the online and the kiosk's form) ----------


def uploaded_files(form, item) -> list:
    """The files chosen in the form's material fields, as `Upload`s."""
    from .uploads import Upload

    return [
        Upload(m["code"], f.filename or "", f.read())
        for m in item.materials
        if (f := getattr(form, f"material_{m['code']}").data) is not None and getattr(f, "filename", "")
    ]


def chosen_certificates(form, item) -> dict:
    """The held e-certificates chosen instead of a material (免提交): material code -> identifier."""
    return {
        m["code"]: getattr(form, f"cert_{m['code']}").data for m in item.materials if hasattr(form, f"cert_{m['code']}")
    }


def submitted_url(endpoint: str, case, created: bool) -> str:
    """Where a sent form goes: the case's page, told by its address whether the form made the
    case or had been sent before (its case, not a second one). Not a flash: a flash is a session
    write (serialise, encrypt, store) on the busiest POST of the platform, and a second one when
    the next page takes it off; the answer is in the URL, the session is left as it was read."""
    return url_for(endpoint, number=case.number, submitted="new" if created else "again")


def submitted_notice(case) -> tuple[str, str] | None:
    """(category, message) that the page `submitted_url` leads to shows, as a flash is shown."""
    kind = request.args.get("submitted")
    if kind == "new":
        return "success", _("申请已提交，办件编号 %(number)s。", number=case.number)
    if kind == "again":
        return "info", _("该申请已提交过，未重复创建。")
    return None


def refuse_upload(form, item, exc) -> None:
    """Show an `UploadRefused` at the material's field."""
    code_of = {m["name"]: m["code"] for m in item.materials}
    field = getattr(form, f"material_{code_of[exc.material_name]}")
    field.errors = [*field.errors, exc.reason]
