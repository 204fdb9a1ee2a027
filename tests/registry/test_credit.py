"""失信联合惩戒 at acceptance: the credit registry (in process and over HTTP), what the window
sees, and the item's rule (refuse, warn, note) applied and recorded, also when the registry is down."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from govservice.audit.models import AuditEntry
from govservice.cases import services as cases
from govservice.catalog import services as catalog
from govservice.core.extensions import db
from govservice.identity import enterprises
from govservice.identity.services import person_for
from govservice.registry import creditdata
from govservice.registry.backends import RegistryUnavailable
from govservice.registry.credit import DevCreditRegistry, HttpCreditRegistry
from govservice.window import credit_checks

from ..factories import ANSWERS, pdf_file, person, submitted_case
from .conftest import dead_url

FENGGANG, WANGWU, TECH = creditdata.LISTED_PERSON, "110108197802151518", creditdata.LISTED_ENTERPRISE


def _audit(action: str) -> list[AuditEntry]:
    return list(
        db.session.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).scalars()
    )


def test_the_development_registry_lists_the_demo_defaulter_and_company_only():
    dev = DevCreditRegistry()
    person = dev.credit("person", FENGGANG, purpose="t")
    assert person.listed and person.entries[0].list_name == "失信被执行人名单"
    assert "法释〔2017〕7号" in person.entries[0].basis and person.entries[0].authority == "北京市朝阳区人民法院"
    company = dev.credit("enterprise", TECH, purpose="t")
    assert company.listed and company.entries[0].list_name == "重大税收违法失信主体名单"
    assert not dev.credit("person", "110105198802150035", purpose="t").listed


def test_the_http_credit_registry_answers_over_a_real_socket_and_fails_closed(live_registry):
    url, service = live_registry
    remote = HttpCreditRegistry(url, token="s3cret", timeout=5)
    record = remote.credit("person", FENGGANG, purpose="受理前信用核查", case="110105202611230001")
    assert record.listed and record.entries == DevCreditRegistry().credit("person", FENGGANG, purpose="").entries
    assert not remote.credit("enterprise", "91110105MA01EFGH30", purpose="t").listed
    assert (f"/credit/persons/{FENGGANG}?", "受理前信用核查", "110105202611230001") in service.config["QUERIES"]
    with pytest.raises(RegistryUnavailable):
        HttpCreditRegistry(url, token="wrong", timeout=5).credit("person", FENGGANG, purpose="t")
    with pytest.raises(RegistryUnavailable):
        HttpCreditRegistry(dead_url(), timeout=2).credit("person", FENGGANG, purpose="t")


def _window_case_of(name: str, id_number: str, code: str = "scjgj-gtgsh-sldj"):
    applicant = person_for(id_number, name)
    db.session.commit()
    case, _ = cases.intake_at_window(
        person("赵敏"), applicant, catalog.current_item(code), dict(ANSWERS), [pdf_file()], uuid.uuid4().hex
    )
    return case.number


def _company_case(code: str = "zjw-jzgc-sgxk"):
    """An online case of 北京示例科技有限公司 (listed), filed by its representative 王五."""
    wangwu = person_for(WANGWU, "王五")
    db.session.commit()
    enterprises.refresh_representation(wangwu, purpose="测试")
    db.session.commit()
    company = enterprises.by_credit_code(TECH)
    item = catalog.current_item(code)
    files = [pdf_file(m["code"]) for m in item.materials]
    case, _ = cases.submit_application(
        wangwu, item, {"project": "示例科技园二期"}, files, uuid.uuid4().hex, enterprise_id=company.id
    )
    return case.number


def test_a_listed_applicant_under_a_refuse_rule_is_shown_with_source_and_basis_and_cannot_be_accepted(
    app, client, login_as, clock
):
    with app.app_context():
        number = _window_case_of("冯刚", FENGGANG)
    login_as(client, "赵敏")
    page = client.get(f"/window/cases/{number}").get_data(as_text=True)
    assert "信用核查" in page and "列入失信名单" in page and "失信被执行人名单" in page
    assert "北京市朝阳区人民法院" in page and "（2025）京0105执12345号" in page
    assert "法释〔2017〕7号" in page and "全国信用信息共享平台（开发数据）" in page and "不予受理" in page
    assert FENGGANG not in page and "110105********0039" in page  # masked where shown
    answer = client.post(
        f"/window/cases/{number}/accept", data={"version": "1", "credit_ack": "1"}, follow_redirects=True
    )
    assert "依据本事项的失信联合惩戒规则，不予受理" in answer.get_data(as_text=True)
    refuse = client.get(f"/window/cases/{number}/refuse").get_data(as_text=True)
    assert "《最高人民法院关于公布失信被执行人名单信息的若干规定》" in refuse  # the basis to start the decision from
    with app.app_context():
        case = cases.find_case(number)
        assert case.state == "submitted" and case.accepted_at is None
        [check] = credit_checks.kept(case)
        assert (check.result, check.rule, check.outcome) == ("listed", "refuse", "refused")
        [lookup] = [e for e in _audit("registry.lookup") if e.subject.startswith("credit:")]
        assert lookup.case_id == case.id and lookup.detail["lists"] == ["失信被执行人名单"]
        [rule] = _audit("credit.rule")
        assert rule.case_id == case.id and rule.detail["outcome"] == "refused"


def test_a_clear_applicant_is_accepted_and_asked_once(app, client, login_as, clock):
    with app.app_context():
        number = submitted_case().number
    login_as(client, "赵敏")
    assert "未列入失信名单" in client.get(f"/window/cases/{number}").get_data(as_text=True)
    client.get(f"/window/cases/{number}")
    answer = client.post(f"/window/cases/{number}/accept", data={"version": "1"}, follow_redirects=True)
    assert "已受理办件" in answer.get_data(as_text=True)
    with app.app_context():
        assert len([e for e in _audit("registry.lookup") if e.subject.startswith("credit:")]) == 1
        assert _audit("credit.rule") == []


def test_a_listed_company_under_a_warn_rule_needs_the_clerk_to_confirm(app, client, login_as, clock):
    with app.app_context():
        number = _company_case()
    login_as(client, "赵敏")
    page = client.get(f"/window/cases/{number}").get_data(as_text=True)
    assert "北京示例科技有限公司" in page and "重大税收违法失信主体名单" in page and "国家税务总局令第54号" in page
    assert "已核对信用核查结果" in page
    refused = client.post(f"/window/cases/{number}/accept", data={"version": "1"}, follow_redirects=True)
    assert "请告知申请人并勾选“已核对信用核查结果”后再受理" in refused.get_data(as_text=True)
    accepted = client.post(
        f"/window/cases/{number}/accept", data={"version": "1", "credit_ack": "1"}, follow_redirects=True
    )
    assert "已受理办件" in accepted.get_data(as_text=True)
    with app.app_context():
        case = cases.find_case(number)
        checks = {c.subject_kind: c for c in credit_checks.kept(case)}
        assert case.state == "accepted"
        assert (checks["enterprise"].result, checks["enterprise"].outcome) == ("listed", "acknowledged")
        assert checks["person"].result == "clear" and checks["person"].outcome is None
        assert [e.detail["outcome"] for e in _audit("credit.rule")] == ["acknowledged"]


def test_a_registry_that_does_not_answer_shows_unavailable_and_applies_the_fallback(app, client, login_as, clock):
    app.config["CREDIT_REGISTRY_URL"] = dead_url()
    credit_checks.init_app(app)
    with app.app_context():
        person_case = submitted_case().number  # 个体工商户设立登记: fallback warn
        company_case = _company_case()  # 建筑工程施工许可: fallback refuse
    login_as(client, "赵敏")
    page = client.get(f"/window/cases/{person_case}").get_data(as_text=True)
    assert "信用核查暂不可用" in page and "提醒窗口确认后受理" in page
    held = client.post(f"/window/cases/{person_case}/accept", data={"version": "1"}, follow_redirects=True)
    assert "信用核查暂不可用（张*）" in held.get_data(as_text=True)
    accepted = client.post(
        f"/window/cases/{person_case}/accept", data={"version": "1", "credit_ack": "1"}, follow_redirects=True
    )
    assert "已受理办件" in accepted.get_data(as_text=True)
    refused = client.post(
        f"/window/cases/{company_case}/accept", data={"version": "1", "credit_ack": "1"}, follow_redirects=True
    )
    assert "信用核查暂不可用，依据本事项规则暂不能受理，请稍后重试。" in refused.get_data(as_text=True)
    with app.app_context():
        assert cases.find_case(company_case).state == "submitted"
        lookups = [e for e in _audit("registry.lookup") if e.subject.startswith("credit:")]
        assert lookups and all(e.detail["result"] == "unavailable" for e in lookups)
        # the registry back: the check that could not be answered is asked again
        app.extensions["credit_registry"] = DevCreditRegistry()
        [kept_person, kept_company] = credit_checks.checks_for(cases.find_case(company_case), None)
        assert kept_company.result == "listed" and kept_person.result == "clear"
