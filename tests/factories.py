"""Building rows for tests through the same services the web uses."""
from __future__ import annotations

import uuid

from govservice import pii
from govservice.cases import services as cases
from govservice.cases.uploads import Upload
from govservice.catalog import services as catalog
from govservice.extensions import db
from govservice.identity.models import Person
from govservice.identity.services import find_person

from .conftest import pdf_upload

ITEM = "scjgj-gtgsh-sldj"
ANSWERS = {
    "operator_name": "张三", "operator_id_number": "110105198802150035", "business_name": "北京市朝阳区张三便利店",
    "composition": "个人经营", "address": "北京市朝阳区示例路8号", "scope": "日用百货零售", "capital": "5",
    "phone": "13800000001",
}
PEOPLE = {
    "张三": "110105198802150035", "李娜": "440106199507200025", "赵敏": "110101198808081231",
    "刘洋": "310115199204045563", "陈静": "110102199003072013",
}


def person(name: str) -> Person:
    """The demo person (staff exist after the demo load; citizens are made as a login would)."""
    number = PEOPLE[name]
    found = find_person(number)
    if found is None:
        found = Person(id_number_hash=pii.lookup_hash(number), id_number_enc=pii.encrypt(number),
                       name_enc=pii.encrypt(name))
        db.session.add(found)
        db.session.commit()
    return found


def pdf_file(code: str = "premises") -> Upload:
    data, name = pdf_upload()
    return Upload(code, name, data.getvalue())


def submitted_case(applicant_name: str = "张三", key: str | None = None):
    case, _ = cases.submit_application(person(applicant_name), catalog.current_item(ITEM), dict(ANSWERS),
                                       [pdf_file()], key or uuid.uuid4().hex)
    return case


def accepted_case():
    case = submitted_case()
    return cases.accept(case.id, person("赵敏"), case.version)


def in_review_case():
    case = accepted_case()
    return cases.claim(case.id, person("刘洋"), case.version)
