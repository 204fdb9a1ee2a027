"""查看完整信息: a case's full ID numbers and phone numbers, shown to someone who may see the case
only when they say why; every reveal lands in the audit log with its purpose (等级保护: 个人信息保护).
Everywhere else they are masked (110105********0035, 138****0001)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ..audit import services as audit
from ..cases.models import Case
from ..core.extensions import db
from ..identity.models import Person
from ..security.text import clean_text
from .rules import Relation

PERSONAL_TYPES = ("id_number", "phone")
MIN_PURPOSE, MAX_PURPOSE = 4, 200


class PurposeMissing(ValueError):
    def __init__(self):
        super().__init__("purpose")
        self.message = _l(
            "请说明查看完整信息的用途（%(min)s至%(max)s字），该用途将记入审计日志。", min=MIN_PURPOSE, max=MAX_PURPOSE
        )


@dataclass(frozen=True)
class Revealed:
    label: str
    value: str


def reveal(person: Person, case: Case, relation: Relation, purpose: str | None) -> list[Revealed]:
    """The case's personal data in full, audited with `purpose`; PurposeMissing without one."""
    purpose = clean_text(purpose or "")
    if not MIN_PURPOSE <= len(purpose) <= MAX_PURPOSE:
        raise PurposeMissing()
    applicant = case.applicant
    shown = [
        Revealed(str(_l("申请人姓名")), applicant.name),
        Revealed(str(_l("申请人身份证号码")), applicant.id_number),
    ]
    if applicant.phone:
        shown.append(Revealed(str(_l("申请人手机号码")), applicant.phone))
    data = case.form_data
    fields = [spec for spec in case.item.fields if spec.get("type") in PERSONAL_TYPES and data.get(spec["name"])]
    shown += [Revealed(spec["label"], str(data[spec["name"]])) for spec in fields]
    audit.record(
        "personal_data.reveal",
        actor=person,
        case_id=case.id,
        subject=f"case:{case.number}",
        purpose=purpose,
        detail={"as": relation.value, "fields": ["applicant", *(f["name"] for f in fields)]},
    )
    db.session.commit()
    return shown
