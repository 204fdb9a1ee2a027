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
            if not allowed and not (response.status_code == 403 and "您没有权限访问此页面。" in
                                    response.get_data(as_text=True)):
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
        assert response.status_code not in (401, 403) and not _to_login(response), f"{rule.rule}: {response.status_code}"
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
        from govservice.extensions import db
        assert db.session.execute(db.select(Case.version).where(Case.number == number)).scalar_one() == version
