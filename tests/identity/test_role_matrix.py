"""Every route of the app, with every role: allowed or refused, as this table says.

The expectations come from URL prefixes (the staff areas), with the few exceptions listed
below; nothing is read from the views themselves. A route added later under a staff prefix is
covered at once; a route that refuses a citizen but lives outside the staff prefixes, or that
declares staff roles there, fails the test until it is moved or classified here. Then the
department: every route under /review that names a case, walked with officers of the case's
department and of others.
"""

from __future__ import annotations

import pytest
from werkzeug.routing import AnyConverter, IntegerConverter

from ..factories import accepted_case

STAFF_PREFIXES = {
    "/window": {"clerk"},
    "/review": {"officer"},
    "/supervision": {"supervisor", "admin"},
    "/admin": {"admin"},
}
PUBLIC, SIGNED_IN = "public", "signed in"
#: Routes under a staff prefix whose rule differs from the prefix's: endpoint -> who may.
EXCEPTIONS = {
    "window.kiosk": PUBLIC,  # the hall's ticket machine
    "window.document": SIGNED_IN,  # notices: the applicant's own (the view checks whose)
    "supervision.holidays": {"admin"},  # keeping the holiday calendar
    "supervision.answer": {"supervisor"},  # answering a rectification task
    "cards.urge": {"supervisor"},  # 督办 of an 电子监察 card (issue 14)
}
#: Staff routes outside the staff prefixes (better moved under their area): endpoint -> who may.
STAFF_OUTSIDE_AREAS = {
    "catalog.consultation_inbox": {"officer"},  # answering consultations (咨询): belongs under /review
    "catalog.answer": {"officer"},
}
#: Machine routes (OAuth2 bearer tokens, not browser sessions): not part of this matrix.
MACHINE_PREFIXES = ("/api/", "/oauth/")
#: Public routes that must open signed out, with no session at all: endpoint -> why.
PUBLIC_SIGNED_OUT = {
    "audit.index": "the audit log's description and URLs",
    "audit.latest": "the latest signed checkpoint of the audit log",
    "audit.checkpoint_of_size": "one checkpoint",
    "audit.list_checkpoints": "every checkpoint, for outside copies",
    "audit.proof": "an inclusion proof",
    "audit.consistency": "a consistency proof",
    "audit.key": "the checkpoint key",
    "audit.key_pem": "the checkpoint key as PEM",
    "bundles.index": "the bundles (一件事) and what each does",
    "petitions.published": "the requests published with their requesters' consent",
    "opendata.index": "政务公开",
    "opendata.item": "an item's guide and statistics",
    "opendata.licences": "行政许可公示",
    "opendata.dictionary": "the open dataset and its data dictionary",
    "opendata.datapackage": "the data package (Frictionless) of the open dataset",
    "opendata.monthly_json": "the monthly statistics as JSON",
    "opendata.monthly_csv": "the monthly statistics as CSV",
    "identity.client_jwks": "the platform's private_key_jwt key, for the identity providers",
}
# The audit log itself (audit_log.*, /supervision/audit/) is a /supervision route: supervisors
# and administrators, by the prefix.
#: Routes that end the session they are called in: walked with a throwaway session.
ENDS_SESSION = {"identity.logout", "identity.end_all_sessions"}

PERSONAS = {"citizen": "张三", "clerk": "赵敏", "officer": "刘洋", "supervisor": "孙强", "admin": "郑华"}


def _area(rule: str):
    for prefix, roles in STAFF_PREFIXES.items():
        if rule == prefix or rule.startswith(prefix + "/"):
            return prefix, roles
    return None


def _url(rule, **known) -> str:
    values = {}
    for name, converter in rule._converters.items():
        if name in known:
            values[name] = known[name]
        elif isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        elif isinstance(converter, IntegerConverter):
            values[name] = 987654
        else:
            values[name] = "no-such-thing"
    return rule.build(values, append_unknown=False)[1]


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith(MACHINE_PREFIXES):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def _call(client, method, url):
    return client.open(url, method=method, data={})


def _to_login(response) -> bool:
    return response.status_code in (301, 302, 303) and "/auth/login" in response.headers.get("Location", "")


@pytest.fixture
def people(app, login):
    clients = {}
    for role, name in PERSONAS.items():
        clients[role] = app.test_client()
        assert login(clients[role], name).status_code == 302
    return clients


def test_every_staff_route_admits_exactly_its_roles(app, people, login):
    walked, problems = 0, []
    for rule, method in _routes(app):
        area = _area(rule.rule)
        url = _url(rule)
        if area is None and rule.endpoint not in STAFF_OUTSIDE_AREAS:
            continue
        expected = STAFF_OUTSIDE_AREAS.get(rule.endpoint) or EXCEPTIONS.get(rule.endpoint, area and area[1])
        walked += 1
        anonymous = _call(app.test_client(), method, url)
        if expected == PUBLIC:
            if anonymous.status_code in (401, 403) or _to_login(anonymous):
                problems.append(f"{method} {rule.rule}: public, but refused to someone signed out")
            continue
        if not (_to_login(anonymous) or anonymous.status_code == 401):
            problems.append(f"{method} {rule.rule}: signed out, got {anonymous.status_code} instead of the login")
        for role, client in people.items():
            response = _call(client, method, url)
            allowed = expected == SIGNED_IN or role in expected
            refused = response.status_code == 403 or _to_login(response)
            if allowed and refused:
                problems.append(f"{method} {rule.rule}: {role} refused ({response.status_code}), should be allowed")
            if not allowed and not (
                response.status_code == 403 and "您没有权限访问此页面。" in response.get_data(as_text=True)
            ):
                problems.append(f"{method} {rule.rule}: {role} got {response.status_code}, should be refused")
    assert walked >= 10, "the staff areas have routes"
    assert not problems, "\n".join(problems)


def test_no_staff_route_lives_outside_the_staff_areas(app, people, login):
    """A citizen is refused nowhere outside the staff prefixes, and no view there declares staff
    roles: otherwise move the route under its area, or classify it above."""
    problems = []
    for rule, method in _routes(app):
        if _area(rule.rule) is not None or rule.endpoint in STAFF_OUTSIDE_AREAS:
            continue
        view = app.view_functions[rule.endpoint]
        if getattr(view, "required_roles", None):
            problems.append(f"{rule.rule} ({rule.endpoint}) declares roles {view.required_roles} outside the areas")
        if rule.endpoint in ENDS_SESSION:
            client = app.test_client()
            login(client, PERSONAS["citizen"])
        else:
            client = people["citizen"]
        response = _call(client, method, _url(rule))
        if response.status_code == 403:
            problems.append(f"{method} {rule.rule} ({rule.endpoint}) refuses a citizen outside the staff areas")
    assert not problems, "\n".join(problems)


def test_the_public_routes_open_signed_out_without_a_session(app):
    endpoints = {rule.endpoint: rule for rule, _method in _routes(app)}
    assert set(PUBLIC_SIGNED_OUT) <= set(endpoints), set(PUBLIC_SIGNED_OUT) - set(endpoints)
    for endpoint in PUBLIC_SIGNED_OUT:
        rule = endpoints[endpoint]
        assert _area(rule.rule) is None, f"{rule.rule} is public but under a staff prefix"
        response = app.test_client().get(_url(rule))
        assert response.status_code not in (401, 403) and not _to_login(response), (
            f"{rule.rule}: {response.status_code}"
        )
        assert "Set-Cookie" not in response.headers, f"{rule.rule} started a session"


def test_a_citizen_opening_a_staff_page_gets_a_clear_page_that_is_logged(app, people):
    from .helpers import audit_entries

    response = people["citizen"].get("/window/")
    body = response.get_data(as_text=True)
    assert response.status_code == 403 and "您没有权限访问此页面。" in body and "此页面仅限窗口工作人员使用" in body
    assert audit_entries(app, "access.denied")[-1][1:] == ("/window/", {"method": "GET", "reason": "area:/window"})


def test_case_routes_under_review_check_the_department(app, login):
    with app.app_context():
        case = accepted_case()  # a case of 市场监督管理局 (scjgj)
        number, version = case.number, case.version
    own, other_departments = app.test_client(), [app.test_client(), app.test_client()]
    login(own, "刘洋")
    login(other_departments[0], "陈静")  # 卫生健康委员会
    login(other_departments[1], "黄磊")  # 公安分局
    walked = 0
    for rule, method in _routes(app):
        if not rule.rule.startswith("/review/") or "number" not in rule.arguments:
            continue
        walked += 1
        url = _url(rule, number=number)
        for client in other_departments:
            response = _call(client, method, url)
            assert response.status_code == 403, f"{method} {rule.rule}: another department got {response.status_code}"
        if method == "GET":
            assert _call(own, method, url).status_code == 200, f"{rule.rule}: its own department is refused"
    assert walked >= 3
    with app.app_context():
        from govservice.cases.models import Case
        from govservice.core.extensions import db

        assert db.session.execute(db.select(Case.version).where(Case.number == number)).scalar_one() == version


# --- Objects: who may see which case, material, notice and certificate (govservice.access) ---------

OTHERS = {"黄磊": "110108199309090052"}  # staff of the demo, known once the demo is loaded


def _add_role(name, role, department=None, hall=None):
    from govservice.catalog import services as catalog
    from govservice.core.extensions import db
    from govservice.identity.models import StaffAssignment
    from govservice.identity.services import find_person

    from ..factories import PEOPLE, person

    someone = person(name) if name in PEOPLE else find_person(OTHERS[name])
    db.session.add(
        StaffAssignment(
            person=someone, role=role, department=catalog.department(department) if department else None, hall=hall
        )
    )
    db.session.commit()
    return someone


def test_the_access_rules_for_cases_and_certificates_hold_for_every_role(app):
    """The table of the access rules, case by case: each row a person and what they may see."""
    from govservice.access import case_relation
    from govservice.core.extensions import db
    from govservice.identity.models import ServiceHall

    from ..factories import person, staff

    with app.app_context():
        online = accepted_case()  # 张三's, of 市场监督管理局 (scjgj), accepted by 赵敏
        other_hall = ServiceHall(code="test-hall", name="别的政务服务中心")
        db.session.add(other_hall)
        db.session.commit()
        at_window = accepted_case()
        at_window.hall_id = db.session.execute(
            db.select(ServiceHall.id).where(ServiceHall.code == "cy-zwfwzx")
        ).scalar_one()
        db.session.commit()
        people = {
            "applicant": person("张三"),
            "citizen": person("李娜"),
            "clerk": person("赵敏"),
            "officer": person("刘洋"),
            "officer elsewhere": person("陈静"),
            "supervisor of all": person("孙强"),
            "admin": person("郑华"),
        }
        people["supervisor of scjgj"] = _add_role("黄磊", "supervisor", "scjgj")
        people["supervisor of wsjkw"] = staff("陈静", "supervisor", "wsjkw")
        # 黄磊 is an officer of 公安分局 and now a supervisor of 市场监督管理局: he sees it as supervisor
        expected_online = {
            "applicant": "applicant",
            "citizen": None,
            "clerk": "window",
            "officer": "officer",
            "officer elsewhere": None,
            "supervisor of all": "supervisor",
            "admin": None,
            "supervisor of scjgj": "supervisor",
            "supervisor of wsjkw": None,
        }
        got = {who: (r.value if (r := case_relation(p, online)) else None) for who, p in people.items()}
        assert got == expected_online
        clerk_elsewhere = _add_role("李娜", "clerk", hall=other_hall)
        assert case_relation(clerk_elsewhere, online).value == "window"  # online: the whole platform's window
        assert case_relation(clerk_elsewhere, at_window) is None  # filed at another hall's window
        assert case_relation(people["clerk"], at_window).value == "window"
        from govservice.cases import queries

        def in_queue(clerk):
            return {c.number for c in queries.awaiting_supplement(viewer=clerk).items} | {  # noqa: E731
                c.number for c in queries.intake_queue(viewer=clerk).items
            }

        for case in (online, at_window):  # back to the window's queue
            case.state = "submitted"
        db.session.commit()
        assert in_queue(people["clerk"]) >= {online.number, at_window.number}
        assert online.number in in_queue(clerk_elsewhere) and at_window.number not in in_queue(clerk_elsewhere)


def test_a_supervisor_of_another_department_neither_opens_the_case_nor_downloads_its_material(app, login):
    from ..factories import staff

    with app.app_context():
        case = accepted_case()
        number, attachment, notice = case.number, case.attachments[0].id, case.documents[-1].id
        staff("陈静", "supervisor", "wsjkw")  # 卫生健康委员会's officer, now also its supervisor
    outsider, own = app.test_client(), app.test_client()
    login(outsider, "陈静")
    login(own, "孙强")  # bound to no department: oversees them all
    for url in (
        f"/cases/{number}",
        f"/cases/{number}/attachments/{attachment}",
        f"/window/cases/{number}/documents/{notice}.pdf",
    ):
        refused = outsider.get(url)
        assert refused.status_code == 403 and "您无权查看该办件。" in refused.get_data(as_text=True), url
        assert own.get(url).status_code == 200, url


def test_staff_reads_of_cases_materials_and_notices_are_audited(app, login):
    from .helpers import audit_entries

    with app.app_context():
        case = accepted_case()
        number, attachment, notice, case_id = case.number, case.attachments[0].id, case.documents[-1].id, case.id
    officer, applicant = app.test_client(), app.test_client()
    login(officer, "刘洋")
    login(applicant, "张三")
    assert applicant.get(f"/cases/{number}").status_code == 200
    assert audit_entries(app, "read.case") == []  # the applicant reading his own case is no staff read
    assert officer.get(f"/review/cases/{number}").status_code == 200
    assert officer.get(f"/cases/{number}/attachments/{attachment}").status_code == 200
    assert officer.get(f"/window/cases/{number}/documents/{notice}.pdf").status_code == 200
    with app.app_context():
        from govservice.audit.models import AuditEntry
        from govservice.core.extensions import db

        rows = db.session.execute(
            db.select(AuditEntry.action, AuditEntry.case_id, AuditEntry.subject)
            .where(AuditEntry.action.like("read.%"))
            .order_by(AuditEntry.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("read.case", case_id, f"case:{number}"),
        ("read.attachment", case_id, f"attachment:{attachment}"),
        ("read.document", case_id, f"document:{notice}"),
    ]


def _enterprise_case(app, filer: str):
    """A case of 北京示例科技有限公司 (its representative is 王五, 钱七 its agent), filed by `filer`."""
    import uuid

    from govservice.cases import services as cases
    from govservice.catalog import services as catalog
    from govservice.identity import enterprises

    from ..factories import ANSWERS, pdf_file, person

    with app.app_context():
        enterprise = enterprises.by_credit_code("91110105MA01ABCD26")
        case, _ = cases.submit_application(
            person(filer) if filer != "钱七" else _qian_qi(),
            catalog.current_item("scjgj-gtgsh-sldj"),
            dict(ANSWERS),
            [pdf_file()],
            uuid.uuid4().hex,
            enterprise_id=enterprise.id,
        )
        return case.number, case.attachments[0].id


def _qian_qi():
    from govservice.identity.services import find_person

    return find_person("110106197508080031")


def test_the_representative_sees_his_enterprises_case_and_an_agent_only_while_his_grant_lives(app, login):
    from datetime import timedelta

    from govservice.core import clock
    from govservice.core.extensions import db
    from govservice.identity.models import AgentGrant

    number, attachment = _enterprise_case(app, "钱七")
    representative, agent = app.test_client(), app.test_client()
    login(representative, "王五")
    login(agent, "钱七")
    for client in (representative, agent):
        assert client.get(f"/cases/{number}").status_code == 200
        assert client.get(f"/cases/{number}/attachments/{attachment}").status_code == 200
    with app.app_context():  # the representative revokes 钱七's grant
        grant = db.session.execute(db.select(AgentGrant).where(AgentGrant.agent_id == _qian_qi().id)).scalar_one()
        grant.revoked_at = clock.now() - timedelta(seconds=1)
        db.session.commit()
    for url in (f"/cases/{number}", f"/cases/{number}/attachments/{attachment}"):
        refused = agent.get(url)
        assert refused.status_code == 403 and "您无权查看该办件。" in refused.get_data(as_text=True), url
    assert representative.get(f"/cases/{number}").status_code == 200


def test_a_certificate_is_seen_by_its_holder_and_its_issuing_department_only(app, login):
    from .. import factories
    from .helpers import audit_entries

    with app.app_context():
        identifier = factories.issue("yyzz").identifier  # 张三's, issued by 市场监督管理局
    expected = {"张三": 200, "李娜": 403, "刘洋": 200, "陈静": 403, "孙强": 403, "赵敏": 403, "郑华": 403}
    got = {}
    for name in expected:
        client = app.test_client()
        login(client, name)
        got[name] = client.get(f"/wallet/{identifier}.pdf").status_code
    assert got == expected
    assert [e[1] for e in audit_entries(app, "read.certificate")] == [f"certificate:{identifier}"]  # 刘洋's
