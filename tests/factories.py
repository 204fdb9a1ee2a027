"""Building rows for tests through the same services the web uses."""

from __future__ import annotations

import base64
import io
import threading
import uuid
from contextlib import contextmanager

from sqlalchemy import event

from govservice.audit import services as audit_services
from govservice.cases import services as cases
from govservice.cases.uploads import Upload
from govservice.catalog import services as catalog
from govservice.certificates import samples
from govservice.certificates import services as certificates
from govservice.core.extensions import db
from govservice.identity.models import Person
from govservice.identity.services import person_for
from govservice.partners import services as partners
from govservice.review import services as review

ITEM = "scjgj-gtgsh-sldj"
#: what 张三 types on ITEM's form (the browser tests post it too); the operator's name and ID
#: number the form pre-fills from the population registry
FORM = {
    "business_name": "北京市朝阳区张三便利店",
    "composition": "个人经营",
    "address": "北京市朝阳区示例路8号",
    "scope": "日用百货零售",
    "capital": "5",
    "phone": "13800000001",
}
ANSWERS = {"operator_name": "张三", "operator_id_number": "110105198802150035", **FORM}
PEOPLE = {
    "张三": "110105198802150035",
    "李娜": "440106199507200025",
    "王五": "110108197802151518",
    "钱七": "110106197508080031",
    "赵敏": "110101198808081231",
    "刘洋": "310115199204045563",
    "陈静": "110102199003072013",
    "孙强": "110105197001017774",  # supervisor
    "郑华": "110101198202200064",  # administrator
}


def pdf_bytes() -> bytes:
    """A small real PDF: one page, "lease agreement"."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "lease agreement")
    page.save()
    return buffer.getvalue()


def pdf_upload(name="premises.pdf"):
    """A small real PDF, as a browser would send it."""
    return (io.BytesIO(pdf_bytes()), name)


def person(name: str) -> Person:
    """The demo person (staff exist after the demo load; citizens are made as a login would)."""
    found = person_for(PEOPLE[name], name)
    db.session.commit()
    return found


def pdf_file(code: str = "premises") -> Upload:
    data, name = pdf_upload()
    return Upload(code, name, data.getvalue())


def submitted_case(applicant_name: str = "张三", key: str | None = None):
    case, _ = cases.submit_application(
        person(applicant_name), catalog.current_item(ITEM), dict(ANSWERS), [pdf_file()], key or uuid.uuid4().hex
    )
    return case


def accepted_case():
    case = submitted_case()
    return cases.accept(case.id, person("赵敏"), case.version)


def in_review_case():
    case = accepted_case()
    return review.claim(case.id, person("刘洋"), case.version)


# --- issue 5: items with a workflow of several departments, and cases under them ---------------

JOINT = [{"mode": "joint", "departments": ["scjgj", "wsjkw"]}]
SEQUENTIAL = [{"mode": "sequential", "departments": ["scjgj", "wsjkw"]}]


def workflow_item(
    code: str = "test-joint",
    workflow: list | None = None,
    *,
    name: str = "开办小餐饮店联合审批",
    result: str | None = None,
    time_limit: int = 3,
    department: str | None = None,
):
    """An item built in the test from the 个体工商户 definition, with the given review workflow
    (by default 并联: 市场监督管理局 and 卫生健康委员会 both decide) and no certificate."""
    from govservice.catalog.models import ServiceItem

    existing = catalog.current_item(code)
    if existing is not None:
        return existing
    base = catalog.current_item(ITEM)
    definition = dict(base.definition, code=code, name=name, workflow=workflow or JOINT)
    definition.pop("result", None)
    if result:
        definition["result"] = result
    lead = catalog.department(department) if department else base.department
    item = ServiceItem(
        code=code,
        version=1,
        is_current=True,
        name=name,
        kind=base.kind,
        department=lead,
        result_type=result,
        time_limit_days=time_limit,
        level_of_assurance=1,
        audience="person",
        definition=definition,
        digest=code,
    )
    db.session.add(item)
    db.session.commit()
    return item


def case_of(item, applicant_name: str = "张三", *, files=None):
    case, _ = cases.submit_application(
        person(applicant_name), item, dict(ANSWERS), [pdf_file()] if files is None else files, uuid.uuid4().hex
    )
    return case


def accepted_case_of(item, applicant_name: str = "张三"):
    case = case_of(item, applicant_name)
    return cases.accept(case.id, person("赵敏"), case.version)


def staff(name: str, role: str, department_code: str | None = None) -> Person:
    """A demo person given one more staff role (e.g. a second officer of a department)."""
    from govservice.identity.models import StaffAssignment

    someone = person(name)
    dept = catalog.department(department_code) if department_code else None
    db.session.add(StaffAssignment(person=someone, role=role, department=dept))
    db.session.commit()
    return someone


def refused_count(reason: str, channel: str = "page") -> float:
    """How many verifications naming no certificate of ours were refused for `reason` (Prometheus)."""
    from prometheus_client import REGISTRY

    return (
        REGISTRY.get_sample_value("govservice_verifications_refused_total", {"channel": channel, "reason": reason})
        or 0.0
    )


def verifications_audited() -> int:
    """How many verification rows the audit log vouches for (the drained batches' counts)."""
    from govservice.audit.models import AuditEntry

    details = db.session.execute(
        db.select(AuditEntry.detail).where(AuditEntry.action == "certificate.verifications")
    ).scalars()
    return sum(d["count"] for d in details)


# --- certificates and partner clients ---------------------------------------------------------

DATA = samples.SAMPLES
HOLDERS = {type_code: name for type_code, (_, name) in samples.HOLDERS.items()}


def issue(type_code: str = "yyzz", holder: str | None = None, **changes):
    """A certificate of `type_code` issued to its usual holder (or `holder`), with `changes` to its data."""
    data = dict(DATA[type_code], **changes)
    return certificates.issue(type_code, person(holder or HOLDERS[type_code]), data)


def register_partner(
    scopes=("certificates:verify", "certificates:read"), organisation="卫生健康委员会", name="公共场所卫生许可审批系统"
):
    return partners.register_client(name, organisation, scopes)


def basic_auth(client_id: str, secret: str) -> dict:
    """The HTTP Basic header of a partner's client id and secret."""
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def token_response(client, client_id: str, secret: str, *, address: str | None = None, **form):
    """The token endpoint's answer to a client-credentials request authenticated with HTTP Basic
    (from `address`, if given); `form` adds to the posted fields or replaces them."""
    remote = {"environ_base": {"REMOTE_ADDR": address}} if address else {}
    headers = basic_auth(client_id, secret)
    return client.post("/oauth/token", data={"grant_type": "client_credentials", **form}, headers=headers, **remote)


def bearer(client, client_id: str, secret: str, **form) -> str:
    """An access token from the token endpoint (HTTP Basic)."""
    answer = token_response(client, client_id, secret, **form)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["access_token"]


def call(client, token: str, path: str, body=None, method="post"):
    return getattr(client, method)(path, json=body, headers={"Authorization": f"Bearer {token}"})


# --- the audit log -----------------------------------------------------------------------------


def append(n: int, action: str = "test.append", **fields) -> list[int]:
    """Append and commit n entries; their ids."""
    entries = [audit_services.record(action, subject=f"test:{i}", detail={"i": i, **fields}) for i in range(n)]
    db.session.commit()
    return [entry.id for entry in entries]


def run_together(count: int, target, timeout: float = 60) -> None:
    """`target(i)` for i in range(count), each in a thread of its own, all started before any is
    waited for (the concurrency tests: who wins a race, and that no second one happens)."""
    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)


@contextmanager
def statements(*, own_savepoints: bool = True):
    """The SQL statements sent meanwhile (without the test transaction's SAVEPOINT, RELEASE and
    ROLLBACK when `own_savepoints` is False)."""
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
        if not own_savepoints:
            seen[:] = [s for s in seen if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))]
