"""The base registries: demo data, the deterministic generator, audited look-ups, the HTTP
interface against a live registry service, and a registry that does not answer."""

import pytest

from govservice.audit.models import AuditEntry
from govservice.core.extensions import db
from govservice.identity.idnumbers import normalise_credit_code, normalise_id_number
from govservice.registry import devdata, legal_persons
from govservice.registry import services as registry
from govservice.registry.backends import DevRegistry, HttpRegistry, RegistryUnavailable

from ..factories import person
from .conftest import dead_url

ZHANGSAN, LINA, WANGWU = "110105198802150035", "440106199507200025", "110108197802151518"


def _lookups():
    return (
        db.session.execute(db.select(AuditEntry).where(AuditEntry.action == "registry.lookup").order_by(AuditEntry.id))
        .scalars()
        .all()
    )


def test_the_demo_people_and_enterprise_are_known():
    dev = DevRegistry(0)
    zhang = dev.person(ZHANGSAN, purpose="t")
    assert (zhang.name, zhang.sex, zhang.birth_date, zhang.household_type) == ("张三", "男", "1988-02-15", "本市城镇")
    assert dev.person(LINA, purpose="t").household_type == "外埠城镇"
    restaurant = dev.legal_person(devdata.DEMO_ENTERPRISE_USCC, purpose="t")
    assert restaurant.legal_representative == "王五" and restaurant.legal_representative_id_number == WANGWU
    assert {e.uscc for e in dev.represented_by(WANGWU, purpose="t")} == {e.uscc for e in devdata.DEMO_ENTERPRISES}
    assert dev.person("110105199001010000", purpose="t") is None


def test_the_generator_is_deterministic_and_its_numbers_are_valid():
    first, again = devdata.generate_people(500), devdata.generate_people(500)
    assert first == again and len({p.id_number for p in first}) == 500
    assert devdata.generate_people(5, seed=1) != devdata.generate_people(5, seed=2)
    for record in first:
        assert normalise_id_number(record.id_number) == record.id_number
        assert record.birth_date.replace("-", "") == record.id_number[6:14]
        assert record.sex == ("男" if int(record.id_number[16]) % 2 else "女")
    for enterprise in devdata.generate_enterprises(200, first):
        assert normalise_credit_code(enterprise.uscc) == enterprise.uscc


def test_a_lookup_is_audited_with_who_why_and_the_case(ctx):
    zhang = person("张三")
    record = registry.person(ZHANGSAN, actor=zhang, purpose="核验申请人身份", case_id=None)
    db.session.commit()
    assert record.name == "张三"
    entry = _lookups()[-1]
    assert entry.actor_id == zhang.id and entry.purpose == "核验申请人身份" and entry.at is not None
    assert entry.subject == "population:110105********0035"  # masked: the log holds no ID number
    assert entry.detail["result"] == "found" and entry.detail["registry"] == "population"


def test_the_legal_person_lookup_names_the_representative(ctx):
    found = registry.legal_person(devdata.DEMO_ENTERPRISE_USCC, purpose="核验法定代表人")
    db.session.commit()
    assert found.name == "北京朝阳示例餐饮有限公司" and found.legal_representative_id_number == WANGWU
    assert found.address and found.uscc == devdata.DEMO_ENTERPRISE_USCC
    assert _lookups()[-1].subject == f"legal_person:{devdata.DEMO_ENTERPRISE_USCC}"
    assert registry.legal_person("91110105MA01ZZZZ00", purpose="t") is None


def test_the_identity_domain_asks_the_one_registry(ctx):
    wangwu = person("王五")
    represented = {r.uscc: r.status for r in legal_persons.enterprises_represented_by(wangwu, purpose="t")}
    assert represented["91110105MA01EFGH30"] == "active" and represented["91110105MA01JKLM4R"] == "deregistered"
    found = legal_persons.find_enterprise("91110105MA01ABCD26", actor=wangwu, purpose="t")
    assert found.legal_representative_name == "王五"
    assert legal_persons.find_enterprise("91110105MA01ZZZZ00", actor=wangwu, purpose="t") is None


def test_the_http_registry_answers_over_a_real_socket(live_registry):
    url, service = live_registry
    remote = HttpRegistry(url, token="s3cret", timeout=5)
    assert remote.person(ZHANGSAN, purpose="预填申请表", case="110105202611230001").name == "张三"
    assert remote.person("110105199001010000", purpose="t") is None
    assert remote.legal_person("91110105MA01EFGH30", purpose="t").legal_representative == "王五"
    assert len(remote.represented_by(WANGWU, purpose="t")) == 3
    # the purpose and the case travel with every question, as a registry operator would log them
    assert ("/population/110105198802150035?", "预填申请表", "110105202611230001") in service.config["QUERIES"]


def test_a_wrong_token_or_a_dead_service_is_unavailable_not_an_error_page(live_registry):
    url, _ = live_registry
    with pytest.raises(RegistryUnavailable):
        HttpRegistry(url, token="wrong", timeout=5).person(ZHANGSAN, purpose="t")
    with pytest.raises(RegistryUnavailable):
        HttpRegistry(dead_url(), timeout=2).person(ZHANGSAN, purpose="t")


def test_the_platform_uses_the_http_registry_when_configured(app, ctx, live_registry):
    url, _ = live_registry
    app.config.update(REGISTRY_URL=url, REGISTRY_TOKEN="s3cret")
    registry.init_app(app)
    assert registry.person(LINA, purpose="t").name == "李娜"
    db.session.commit()
    assert _lookups()[-1].detail["source"] == "http"


class Down:
    source = "test"

    def person(self, *a, **k):
        raise RegistryUnavailable("test", "timeout")

    legal_person = represented_by = person


def test_prefill_with_a_registry_down_leaves_fields_empty_with_a_notice(app, ctx):
    from govservice.catalog import services as catalog

    app.extensions["registry"] = Down()
    item = catalog.current_item("gaj-jzz-sl")
    filled = registry.prefill(item.fields, person("张三"), enterprise_uscc=None, purpose="t")
    assert filled.values == {"name": "张三", "id_number": ZHANGSAN}  # the login still fills its part
    assert filled.unavailable == {"population"} and "暂时无法访问" in str(filled.notices[0])
    registry.record_lookups(filled.lookups, actor=person("张三"), purpose="t")
    db.session.commit()
    assert _lookups()[-1].detail == {
        "registry": "population",
        "result": "unavailable",
        "source": "test",
        "reason": "timeout",
    }
