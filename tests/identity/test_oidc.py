"""The relying party against a provider that misbehaves on purpose (the stub, over real HTTP,
with the platform's real Authlib client): every check a conformant client makes, and each bad
answer ends on a clear Chinese page, is audited, and creates nothing."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from govservice.core.extensions import db
from govservice.identity import services
from govservice.identity.models import IdentityLink, Person

from .conftest import stub_spec
from .helpers import audit_entries, count, page, providers_file, stub_login
from .stub_provider import CLIENT_ID, new_key


@pytest.fixture
def app_config(providers_dir, stub):
    return {
        "OIDC_PROVIDERS_FILE": providers_file(
            providers_dir, stub=stub_spec(stub, acr_levels={"urn:loa:low": 1, "2": 2, "urn:loa:high": 3})
        )
    }


def _refused(app, client, response, reason: str, message: str = "登录未完成"):
    """The login ended on the login page with `message`, audited with `reason`, nothing made."""
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/login")
    assert message in page(client.get("/auth/login"))
    assert count(app, Person, Person.last_login_at.is_not(None)) == 0
    assert count(app, IdentityLink) == 0
    refusals = audit_entries(app, "identity.sign_in_refused")
    assert refusals and refusals[-1][2]["reason"] == reason, refusals
    assert "张*" not in page(client.get("/"))


def test_sign_in_uses_pkce_s256_state_and_nonce_and_verifies_the_id_token(app, client, stub):
    response = stub_login(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    sent = stub.requests[-1]
    assert sent["response_type"] == "code" and sent["client_id"] == CLIENT_ID
    assert sent["code_challenge_method"] == "S256" and len(sent["code_challenge"]) == 43
    assert len(sent["state"]) >= 20 and len(sent["nonce"]) >= 20
    assert set(sent["scope"].split()) >= {"openid", "profile"}
    assert len(stub.token_requests[-1]["code_verifier"]) >= 43
    assert "张*" in page(client.get("/"))
    assert [(p, s) for p, s in _links(app)] == [("stub", "stub-0001")]


def _links(app):
    with app.app_context():
        return db.session.execute(db.select(IdentityLink.provider, IdentityLink.subject)).all()


def test_a_token_signed_by_a_key_the_provider_does_not_publish_is_refused(app, client, stub):
    stub.behaviour.sign_with = new_key()
    fetched = stub.jwks_fetches
    _refused(app, client, stub_login(client), "bad_signature")
    assert stub.jwks_fetches - fetched == 2  # an unknown key id: the key set is fetched again before refusing


def test_a_token_signed_by_another_key_under_a_published_key_id_is_refused(app, client, stub):
    forger = new_key()
    impostor = type(forger).import_key(forger.as_dict(private=True) | {"kid": stub.keys[0].kid})
    stub.behaviour.sign_with = impostor
    _refused(app, client, stub_login(client), "bad_signature")


def test_keys_rotated_by_the_provider_are_fetched_again(app, stub):
    assert stub_login(app.test_client()).status_code == 302
    fetched = stub.jwks_fetches
    stub.rotate()
    second = app.test_client()
    response = stub_login(second)
    assert response.headers["Location"].endswith("/")
    assert "张*" in page(second.get("/"))
    assert stub.jwks_fetches == fetched + 1


def test_an_expired_id_token_is_refused(app, client, stub):
    stub.behaviour.exp_in = -300
    _refused(app, client, stub_login(client), "token_expired")


def test_an_id_token_issued_long_ago_is_refused(app, client, stub):
    stub.behaviour.iat_offset, stub.behaviour.exp_in = -3600, 7200
    _refused(app, client, stub_login(client), "claims_invalid")


def test_a_nonce_mismatch_is_refused(app, client, stub):
    stub.behaviour.nonce = "a-nonce-from-another-login"
    _refused(app, client, stub_login(client), "nonce_mismatch")


@pytest.mark.parametrize(
    "field, value", [("aud", "another-client"), ("aud", ["another-client"]), ("iss", "http://127.0.0.1:1")]
)
def test_a_token_for_another_client_or_from_another_issuer_is_refused(app, client, stub, field, value):
    setattr(stub.behaviour, field, value)
    _refused(app, client, stub_login(client), "claims_invalid")


def test_a_discovery_document_naming_another_issuer_is_refused(app, client, stub):
    stub.behaviour.discovery_issuer = "http://127.0.0.1:1"
    response = client.get("/auth/login/stub")
    assert response.headers["Location"].endswith("/auth/login")
    assert "身份提供方的配置与本平台不一致" in page(client.get("/auth/login"))
    assert audit_entries(app, "identity.sign_in_refused")[-1][2]["reason"] == "issuer_mismatch"
    assert not stub.requests


def test_a_token_response_without_an_id_token_is_refused(app, client, stub):
    stub.behaviour.id_token = False
    _refused(app, client, stub_login(client), "no_id_token")


def test_claims_missing_from_the_id_token_come_from_userinfo(app, client, stub):
    stub.behaviour.claims = {"sub": "stub-0001"}
    stub.behaviour.userinfo = {
        "sub": "stub-0001",
        "name": "张三",
        "id_number": "110105198802150035",
        "phone_number": "13900000009",
        "acr": "urn:loa:high",
        "iss": "http://evil",
    }
    assert stub_login(client).headers["Location"].endswith("/")
    with app.app_context():
        person = services.find_person("110105198802150035")
        assert (person.name, person.phone) == ("张三", "13900000009")
        assert person.level_of_assurance == 2  # acr comes from the ID token, never from userinfo


def test_userinfo_about_another_subject_is_refused(app, client, stub):
    stub.behaviour.claims = {"sub": "stub-0001"}
    stub.behaviour.userinfo = {"sub": "stub-9999", "name": "李四", "id_number": "110105198802150035"}
    _refused(app, client, stub_login(client), "userinfo_mismatch")


def test_the_providers_acr_values_map_to_levels(app, stub):
    for acr, level in [("urn:loa:high", 3), ("urn:loa:low", 1), ("something-unknown", 1), (None, 1)]:
        stub.behaviour.acr = acr
        client = app.test_client()
        stub_login(client)
        assert f"本次登录为{level}级" in page(client.get("/auth/me"))


def test_an_error_from_the_provider_is_explained(app, client, stub):
    start = client.get("/auth/login/stub")
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    response = client.get(f"/auth/callback/stub?error=temporarily_unavailable&state={state}")
    assert "身份提供方未能完成登录（temporarily_unavailable）" in page(client.get(response.headers["Location"]))
    assert audit_entries(app, "identity.sign_in_refused")[-1][2]["reason"] == "provider_error"
    assert count(app, IdentityLink) == 0


def test_a_provider_gone_down_during_the_login_gets_a_clear_message(app, client, stub):
    start = client.get("/auth/login/stub")
    answer = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    stub.stop()
    callback = urlsplit(answer.headers["Location"])
    response = client.get(f"{callback.path}?{callback.query}")
    assert "身份提供方暂时无法访问" in page(client.get(response.headers["Location"]))
    assert audit_entries(app, "identity.sign_in_refused")[-1][2]["reason"] == "provider_unreachable"
    assert count(app, IdentityLink) == 0


def test_a_callback_replayed_in_another_browser_is_refused(app, client, stub):
    start = client.get("/auth/login/stub")
    answer = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    callback = urlsplit(answer.headers["Location"])
    other = app.test_client()
    response = other.get(f"{callback.path}?{callback.query}")
    assert "登录未完成：登录请求已失效或不是从本站发起的" in page(other.get(response.headers["Location"]))
    assert count(app, IdentityLink) == 0


def test_sign_out_goes_to_the_providers_end_session_endpoint(app, client, stub):
    stub_login(client)
    response = client.post("/auth/logout")
    target = urlsplit(response.headers["Location"])
    params = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{stub.issuer}/logout"
    assert params["post_logout_redirect_uri"] == "http://localhost/auth/logged-out"
    assert params["client_id"] == CLIENT_ID and params["id_token_hint"].count(".") == 2
    assert "张*" not in page(client.get("/"))
    assert "您已安全退出。" in page(client.get("/auth/logged-out", follow_redirects=True))


def test_without_an_end_session_endpoint_sign_out_stays_here(app, client, stub):
    stub.behaviour.end_session = False
    stub_login(client)
    response = client.post("/auth/logout", follow_redirects=True)
    assert "您已安全退出。" in page(response) and "张*" not in page(response)
    assert [e[2]["provider"] for e in audit_entries(app, "identity.sign_out")] == ["stub"]


@pytest.mark.parametrize(
    "claims, reason, message",
    [
        ({"sub": "stub-0002", "name": "王某"}, "no_id_number", "身份提供方没有提供身份证号码，无法登录。"),
        ({"sub": "stub-0002", "name": "王某", "id_number": "110105198802150036"}, "invalid_id_number", "校验码不正确"),
        ({"sub": "stub-0002", "name": "王某", "id_number": "990105198802150039"}, "invalid_id_number", "地区代码无效"),
        ({"sub": "stub-0002", "id_number": "110105198802150035"}, "no_name", "身份提供方没有提供姓名"),
    ],
)
def test_a_provider_sending_no_or_a_bad_id_number_gets_a_clear_refusal(app, client, stub, claims, reason, message):
    stub.behaviour.claims = claims
    stub.behaviour.userinfo = claims
    people = count(app, Person)
    _refused(app, client, stub_login(client), reason, message)
    assert count(app, Person) == people
