"""One number, one person (一号): two live development providers (other issuers, keys, client
secrets and subjects, the same people) asserting the same ID number reach the same account;
the person sees and adds linked providers; a provider's role claim makes staff roles."""

from __future__ import annotations

import pytest

from govservice.core.extensions import db
from govservice.core.keys import instance_secret
from govservice.identity import services
from govservice.identity.devidp.identities import IDENTITIES
from govservice.identity.models import IdentityLink, Person, StaffAssignment

from ..conftest import idp_choose
from .conftest import devidp_spec
from .helpers import audit_entries, count, page, providers_file

GOV2 = "省统一身份认证平台"


@pytest.fixture
def app_config(providers_dir, idp, idp2, instance_dir):
    secret = instance_secret(instance_dir, "devidp_client_secret", "DEV_IDP_CLIENT_SECRET")
    return {
        "OIDC_PROVIDERS_FILE": providers_file(
            providers_dir,
            devidp=devidp_spec(idp, secret),
            gov2=devidp_spec(
                idp2.issuer, idp2.client_secret, title=GOV2, scope="openid profile phone roles", role_claim="roles"
            ),
        )
    }


def _links(app, number):
    with app.app_context():
        person = services.find_person(number)
        return person.id, sorted((link.provider, link.subject) for link in person.links)


def test_the_login_page_offers_each_provider(client):
    body = page(client.get("/auth/login"))
    assert "通过 开发用身份提供方 登录" in body and f"通过 {GOV2} 登录" in body


def test_two_providers_asserting_one_number_reach_one_person(app, login):
    people = count(app, Person)
    first, second = app.test_client(), app.test_client()
    assert login(first, "张三").headers["Location"].endswith("/")
    assert login(second, "张三", provider="gov2").headers["Location"].endswith("/")
    person_id, links = _links(app, "110105198802150035")
    assert links == [("devidp", "dev-zhangsan"), ("gov2", "gov2-zhangsan")]
    assert count(app, Person) == people + 1
    account = page(second.get("/auth/me"))
    assert "开发用身份提供方" in account and GOV2 in account
    assert [e[2]["new_link"] for e in audit_entries(app, "identity.sign_in") if e[0] == person_id] == [True, True]


def test_the_same_provider_again_adds_no_link(app, login):
    login(app.test_client(), "张三", provider="gov2")
    login(app.test_client(), "张三", provider="gov2")
    assert _links(app, "110105198802150035")[1] == [("gov2", "gov2-zhangsan")]


def test_a_signed_in_person_links_another_provider(app, client, login):
    login(client, "张三")
    account = page(client.get("/auth/me"))
    assert f"关联 {GOV2}" in account
    start = client.post("/auth/link/gov2")
    assert start.status_code == 302 and "prompt=login" in start.headers["Location"]
    done = idp_choose(client, start.headers["Location"], "张三")
    assert done.headers["Location"].endswith("/auth/me")
    account = page(client.get("/auth/me"))
    assert f"已关联 {GOV2}" in account and f"关联 {GOV2}</button>" not in account
    assert _links(app, "110105198802150035")[1] == [("devidp", "dev-zhangsan"), ("gov2", "gov2-zhangsan")]
    assert [e[2]["provider"] for e in audit_entries(app, "identity.link")] == ["gov2"]


def test_linking_an_account_of_another_person_is_refused_and_changes_nothing(app, client, login):
    login(client, "张三")
    people = count(app, Person)
    start = client.post("/auth/link/gov2")
    refused = idp_choose(client, start.headers["Location"], "李娜")
    assert refused.headers["Location"].endswith("/auth/me")
    account = page(client.get("/auth/me"))
    assert "身份证号码与当前账号不一致，未作任何更改" in account
    assert "张*" in account  # still signed in as before
    assert _links(app, "110105198802150035")[1] == [("devidp", "dev-zhangsan")]
    assert count(app, Person) == people and count(app, IdentityLink, IdentityLink.provider == "gov2") == 0
    assert audit_entries(app, "identity.sign_in_refused")[-1][2]["reason"] == "other_person"


def test_a_subject_linked_to_another_number_is_refused(ctx):
    provider = services.providers()["gov2"]
    services.sign_in(provider, {"sub": "gov2-x", "name": "张三", "id_number": "110105198802150035"})
    with pytest.raises(services.LoginRefused, match="已关联到另一个身份证号码"):
        services.sign_in(provider, {"sub": "gov2-x", "name": "李娜", "id_number": "440106199507200025"})
    assert services.find_person("440106199507200025") is None


def _roles(app, name):
    number = next(i["id_number"] for i in IDENTITIES if i["name"] == name)
    with app.app_context():
        person = services.find_person(number)
        return sorted((a.role, a.department.code if a.department else None, a.source) for a in person.assignments)


def test_a_role_claim_makes_and_unmakes_staff_roles(app, login, monkeypatch):
    with app.app_context():  # 黄磊's roles come only from the provider in this test
        person = services.find_person("110108199309090052")
        db.session.execute(db.delete(StaffAssignment).where(StaffAssignment.person_id == person.id))
        db.session.commit()
    officer = app.test_client()
    login(officer, "黄磊", provider="gov2")
    assert _roles(app, "黄磊") == [("officer", "gaj", "claim:gov2")]
    assert officer.get("/review/").status_code == 200

    # the provider no longer asserts the role: the next sign-in through it takes it away
    identity = next(i for i in IDENTITIES if i["name"] == "黄磊")
    monkeypatch.setitem(identity, "staff", ["officer:no-such-department", "janitor"])
    login(app.test_client(), "黄磊", provider="gov2")
    assert _roles(app, "黄磊") == []
    assert officer.get("/review/").status_code == 403  # at once, in the session already open
    detail = audit_entries(app, "identity.sign_in")[-1][2]
    assert detail["roles"] == {"roles": [], "ignored": ["officer:no-such-department", "janitor"]}


def test_a_role_claim_leaves_roles_kept_by_an_admin_alone(app, login):
    login(app.test_client(), "刘洋", provider="gov2")
    assert _roles(app, "刘洋") == [("officer", "scjgj", "admin")]
