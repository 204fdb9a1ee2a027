"""Acting for a business: the legal representative (from the legal-person registry), agents he
authorises (all items or some, until a day, revocable at once), the "acting as" switch, and the
refusals: no grant, a deregistered enterprise, a grant revoked or expired mid-session."""

from __future__ import annotations

from datetime import timedelta

import pytest

from govservice.cases.models import Case
from govservice.core import clock as clock_module
from govservice.core.extensions import db
from govservice.identity import enterprises, services
from govservice.identity.models import AgentGrant, Enterprise, Person

from .helpers import audit_entries, count, page

TECH, FOOD, TRADE = "91110105MA01ABCD26", "91110105MA01EFGH30", "91110105MA01JKLM4R"
ENTERPRISE_ITEM, BOTH_ITEM, PERSON_ITEM = "wsjkw-ggcswsxk", "scjgj-spjyxk", "scjgj-gtgsh-sldj"
ZHANGSAN, LINA = "110105198802150035", "440106199507200025"


def _enterprise_id(app, uscc) -> int:
    with app.app_context():
        return enterprises.by_credit_code(uscc).id


def _act(client, enterprise_id, follow=True):
    return client.post("/auth/acting-as", data={"enterprise": str(enterprise_id), "next": "/"}, follow_redirects=follow)


def _grant(app, agent_number=ZHANGSAN, agent_name="张三", uscc=TECH, *, all_items=True, items=(), days=30):
    with app.app_context():
        representative = services.find_person("110108197802151518")
        grant = enterprises.grant_agent(
            representative,
            uscc,
            agent_number,
            agent_name,
            all_items=all_items,
            item_codes=list(items),
            valid_until=clock_module.today() + timedelta(days=days),
            known_items={ENTERPRISE_ITEM, BOTH_ITEM, PERSON_ITEM},
        )
        return grant.id


def test_the_registry_names_the_legal_representatives_enterprises_at_sign_in(app, client, login):
    login(client, "王五")
    body = page(client.get("/enterprise/"))
    assert "北京示例科技有限公司" in body and "北京朝阳示例餐饮有限公司" in body
    assert "北京示例贸易有限公司" not in body  # deregistered: not offered
    assert body.count("法定代表人") >= 2 and "管理经办人" in body
    lookups = audit_entries(app, "registry.legal_person")
    assert any(detail.get("represented") == [TECH, FOOD, TRADE] for _, _, detail in lookups)


def test_an_agent_switches_to_acting_for_the_enterprise_and_back(app, client, login):
    login(client, "钱七")
    home = page(client.get("/"))
    assert 'id="acting-as"' in home and "北京示例科技有限公司（经办人）" in home
    switched = page(_act(client, _enterprise_id(app, TECH)))
    assert "您现在代表“北京示例科技有限公司”办事（经办人）。" in switched
    assert "您正在代表“北京示例科技有限公司”办事（经办人）。" in page(client.get("/items/"))
    assert "钱*（代表 北京示例科技有限公司）" in page(client.get("/auth/me"))
    ((actor, subject, detail),) = audit_entries(app, "identity.act_for")
    assert subject == f"enterprise:{TECH}" and detail["basis"] == "agent" and detail["grant"]
    back = page(client.post("/auth/acting-as", data={"enterprise": "", "next": "/"}, follow_redirects=True))
    assert "已切换为本人身份办事。" in back and "您正在代表" not in back
    assert len(audit_entries(app, "identity.act_for_end")) == 1


def test_the_representative_acts_for_the_enterprise_after_the_registry_confirms(app, client, login):
    login(client, "王五")
    lookups = len(audit_entries(app, "registry.legal_person"))
    assert "（法定代表人）" in page(_act(client, _enterprise_id(app, FOOD)))
    assert len(audit_entries(app, "registry.legal_person")) == lookups + 1


def test_acting_for_an_enterprise_without_a_grant_is_refused_and_changes_nothing(app, client, login):
    login(client, "张三")
    body = page(_act(client, _enterprise_id(app, TECH)))
    assert "您没有代表该企业办事的授权。" in body and "您正在代表" not in body
    assert audit_entries(app, "identity.act_for_refused")[-1][1] == f"enterprise:{TECH}"
    assert not audit_entries(app, "identity.act_for")
    assert "您没有代表该企业办事的授权。" in page(_act(client, 987654))


def test_a_deregistered_enterprise_cannot_be_acted_for(app, client, login):
    login(client, "王五")
    body = page(_act(client, _enterprise_id(app, TRADE)))
    assert "“北京示例贸易有限公司”已注销或被吊销，不能代表其办事。" in body and "您正在代表" not in body


def _today(app):
    with app.app_context():
        return clock_module.today()


def test_the_representative_authorises_an_agent_on_the_web(app, client, login):
    login(client, "王五")
    agents = page(client.get(f"/enterprise/{TECH}/agents"))
    assert "钱*" in agents and "撤销 钱* 的授权" in agents  # the demo grant
    until = (_today(app) + timedelta(days=30)).isoformat()
    response = client.post(
        f"/enterprise/{TECH}/agents",
        data={
            "agent_id_number": ZHANGSAN,
            "agent_name": "张三",
            "scope": "items",
            "items": [BOTH_ITEM],
            "valid_until": until,
        },
        follow_redirects=True,
    )
    assert f"已授权 张* 为经办人，有效期至 {until}。" in page(response)
    with app.app_context():
        grant = db.session.execute(
            db.select(AgentGrant).where(AgentGrant.agent_id == services.find_person(ZHANGSAN).id)
        ).scalar_one()
        assert (grant.all_items, grant.item_codes) == (False, [BOTH_ITEM])
    assert audit_entries(app, "identity.agent_grant")[-1][2]["items"] == [BOTH_ITEM]
    agent = app.test_client()
    login(agent, "张三")
    assert "北京示例科技有限公司（经办人）" in page(agent.get("/"))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"agent_id_number": "110105198802150036"}, "身份证号码校验码不正确"),
        ({"agent_name": "李四"}, "经办人姓名与身份证号码不一致"),
        ({"agent_id_number": "110108197802151518", "agent_name": "王五"}, "法定代表人本人无需授权"),
        ({"valid_until": "2020-01-01"}, "授权截止日期不能早于今天"),
        ({"valid_until": "2031-01-01"}, "授权期限最长3年"),
        ({"scope": "items"}, "请选择授权办理的事项"),
        ({"scope": "items", "items": ["no-such-item"]}, "事项不存在：no-such-item"),
        ({"agent_id_number": "110106197508080031", "agent_name": "钱七"}, "该经办人已有有效授权"),
        ({"valid_until": "not-a-date"}, "请填写有效的授权截止日期"),
    ],
)
def test_each_bad_grant_is_explained_and_nothing_is_made(app, client, login, change, message):
    login(client, "王五")
    grants, people = count(app, AgentGrant), count(app, Person)
    data = {
        "agent_id_number": ZHANGSAN,
        "agent_name": "张三",
        "scope": "all",
        "valid_until": (_today(app) + timedelta(days=30)).isoformat(),
    } | change
    response = client.post(f"/enterprise/{TECH}/agents", data=data)
    assert response.status_code == 422 and message in page(response)
    assert count(app, AgentGrant) == grants and count(app, Person) == people


def test_only_the_legal_representative_manages_agents(app, client, login):
    login(client, "钱七")
    response = client.get(f"/enterprise/{TECH}/agents")
    assert response.status_code == 403 and "法人库登记的法定代表人不是您" in page(response)
    grant_id = _grant(app)
    refused = client.post(f"/enterprise/{TECH}/agents/{grant_id}/revoke")
    assert refused.status_code == 403
    with app.app_context():
        assert db.session.get(AgentGrant, grant_id).revoked_at is None
    assert client.get("/enterprise/NOT-A-CODE/agents").status_code == 404


def test_an_agent_whose_grant_is_revoked_mid_session_is_stopped_at_once(app, login):
    grant_id = _grant(app)
    agent, representative = app.test_client(), app.test_client()
    login(agent, "张三")
    _act(agent, _enterprise_id(app, TECH))
    assert "您正在代表“北京示例科技有限公司”" in page(agent.get("/"))

    login(representative, "王五")
    revoked = representative.post(f"/enterprise/{TECH}/agents/{grant_id}/revoke", follow_redirects=True)
    assert "已撤销 张* 的经办授权，立即生效。" in page(revoked)

    cases = count(app, Case)
    stopped = agent.post(f"/apply/{ENTERPRISE_ITEM}", data={"idempotency_key": "k1"})
    assert stopped.status_code == 403
    body = page(stopped)
    assert "代表企业办事已结束" in body and "您代表“北京示例科技有限公司”办事的授权已被撤销或已到期" in body
    assert "本次操作未执行" in body
    assert count(app, Case) == cases
    assert audit_entries(app, "identity.act_for_ended")[-1][2] == {"grant": grant_id, "revoked": True}
    after = page(agent.get("/"))
    assert "您正在代表" not in after and 'id="acting-as"' not in after  # back to acting as oneself
    again = representative.post(f"/enterprise/{TECH}/agents/{grant_id}/revoke", follow_redirects=True)
    assert "该授权已于" in page(again)


def test_a_grant_ends_after_its_last_day(app, client, login, clock):
    clock.advance(hours=13, minutes=50)  # 23:50 in Beijing
    _grant(app, days=0)  # until today
    login(client, "张三")
    _act(client, _enterprise_id(app, TECH))
    clock.advance(minutes=9)
    assert client.get("/").status_code == 200
    clock.advance(minutes=1, seconds=1)  # past midnight
    response = client.get("/")
    assert response.status_code == 403 and "已被撤销或已到期" in page(response)


def test_an_agent_applies_only_for_the_items_granted(app, client, login):
    _grant(app, all_items=False, items=[BOTH_ITEM])
    login(client, "张三")
    _act(client, _enterprise_id(app, TECH))
    refused = client.get(f"/apply/{ENTERPRISE_ITEM}")
    assert refused.status_code == 403 and "经办授权不包含事项" in page(refused)
    assert audit_entries(app, "access.denied")[-1][2]["reason"] == f"grant_scope:{ENTERPRISE_ITEM}"
    allowed = client.get(f"/apply/{BOTH_ITEM}")
    assert allowed.status_code == 200 and "申请主体：北京示例科技有限公司" in page(allowed)


def test_the_application_of_an_agent_acting_for_the_enterprise_is_the_enterprises(app, client, login):
    # Submitting it records the case for the enterprise (cases.enterprise_id): tests/cases/test_views.py.
    login(client, "钱七")
    _act(client, _enterprise_id(app, TECH))
    form = page(client.get(f"/apply/{ENTERPRISE_ITEM}"))
    assert "申请主体：北京示例科技有限公司" in form


def test_grants_of_a_person_not_yet_signed_in_wait_for_the_first_sign_in(app, client, login):
    with app.app_context():
        assert services.find_person(LINA) is None
    _grant(app, LINA, "李娜")
    login(client, "李娜")
    with app.app_context():
        assert count(app, Person, Person.id_number_hash == services.find_person(LINA).id_number_hash) == 1
    assert "北京示例科技有限公司（经办人）" in page(client.get("/"))


def test_a_representative_replaced_in_the_registry_loses_the_enterprise(app, client, login, monkeypatch):
    from dataclasses import replace

    from govservice.registry.backends import DevRegistry

    login(client, "王五")
    # the registry now names someone else (a backend of the one registry interface)
    registry = DevRegistry(app.config.get("REGISTRY_DEV_GENERATED", 1000))
    tech = replace(registry.enterprises[TECH], legal_representative="李娜", legal_representative_id_number=LINA)
    registry.enterprises = {**registry.enterprises, TECH: tech}
    monkeypatch.setitem(app.extensions, "registry", registry)
    body = page(_act(client, _enterprise_id(app, TECH)))
    assert "您没有代表该企业办事的授权。" in body and "您正在代表" not in body
    with app.app_context():
        assert db.session.get(Enterprise, _enterprise_id(app, TECH)).legal_representative_id is None
    assert client.get(f"/enterprise/{TECH}/agents").status_code == 403
