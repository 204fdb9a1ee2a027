"""OpenID Connect hardening (issue 11): RFC 9207 `iss`, `acr` requested, userinfo for any mapped
claim the ID token lacks, and private_key_jwt client authentication with a published JWKS."""

from __future__ import annotations

import json

import pytest

from govservice.identity import services

from .conftest import stub_spec
from .helpers import page, providers_file, stub_login
from .test_oidc import _refused


@pytest.fixture
def app_config(providers_dir, stub):
    return {
        "OIDC_PROVIDERS_FILE": providers_file(
            providers_dir, stub=stub_spec(stub, acr_levels={"urn:loa:low": 1, "2": 2, "urn:loa:high": 3})
        )
    }


def test_a_callback_naming_another_issuer_is_refused(app, client, stub):
    stub.behaviour.advertise_iss = True
    stub.behaviour.response_iss = "https://evil.example"
    _refused(app, client, stub_login(client), "iss_mismatch")


def test_a_callback_without_iss_from_a_provider_that_sends_it_is_refused(app, client, stub):
    stub.behaviour.advertise_iss = True
    stub.behaviour.response_iss = ""
    _refused(app, client, stub_login(client), "iss_missing")


def test_a_callback_with_the_right_iss_signs_in(app, client, stub):
    stub.behaviour.advertise_iss = True
    assert stub_login(client).headers["Location"].endswith("/")
    assert "张*" in page(client.get("/"))


def test_an_iss_is_checked_even_when_the_provider_does_not_advertise_it(app, client, stub):
    stub.behaviour.response_iss = "https://evil.example"
    _refused(app, client, stub_login(client), "iss_mismatch")


def test_acr_is_requested_at_sign_in_so_that_the_provider_releases_it(app, client, stub):
    stub_login(client)
    assert stub.requests[-1]["acr_values"] == "urn:loa:low"  # level 1 suffices: the provider says which it was


def test_with_the_claims_parameter_acr_is_asked_as_a_claim_and_at_the_items_level(app, client, stub):
    stub.behaviour.claims_parameter = True
    from .helpers import follow_to_callback

    follow_to_callback(client, client.get("/auth/login/stub?next=/apply/scjgj-spjyxk"))  # a level-2 item
    sent = stub.requests[-1]
    assert json.loads(sent["claims"]) == {"id_token": {"acr": {"essential": False, "values": ["2", "urn:loa:high"]}}}
    assert "acr_values" not in sent  # a hint, not a demand: a level-1 sign-in still works, then steps up


def test_a_step_up_requires_the_level(app, client, stub):
    stub.behaviour.claims_parameter = True
    stub_login(client)
    stub.behaviour.acr = "urn:loa:high"
    from .helpers import follow_to_callback

    follow_to_callback(client, client.get("/auth/login/stub?level=3&next=/"))
    sent = stub.requests[-1]
    assert sent["acr_values"] == "urn:loa:high"
    assert json.loads(sent["claims"])["id_token"]["acr"] == {"essential": True, "values": ["urn:loa:high"]}


def test_a_phone_released_only_at_userinfo_is_fetched(app, client, stub):
    stub.behaviour.claims = {"sub": "stub-0001", "name": "张三", "id_number": "110105198802150035"}
    stub.behaviour.userinfo = {"sub": "stub-0001", "phone_number": "13900000009"}
    assert stub_login(client).headers["Location"].endswith("/")
    with app.app_context():
        assert services.find_person("110105198802150035").phone == "13900000009"


def test_private_key_jwt_authenticates_with_the_published_key(
    tmp_path, stub, migrated, instance_dir, database_url, idp
):
    from govservice import create_app
    from govservice.core.extensions import db

    from ..conftest import _config

    spec = stub_spec(stub, token_endpoint_auth_method="private_key_jwt")
    spec.pop("client_secret")
    app = create_app(
        _config(instance_dir, database_url, idp) | {"OIDC_PROVIDERS_FILE": providers_file(tmp_path, stub=spec)}
    )
    try:
        client = app.test_client()
        published = client.get("/auth/jwks.json")
        assert published.status_code == 200 and "Set-Cookie" not in published.headers
        keys = published.get_json()["keys"]
        assert [k["kty"] for k in keys] == ["RSA"] and "d" not in keys[0] and keys[0]["kid"]
        assert stub_login(client).status_code == 302
        assert "登录未完成" in page(client.get("/auth/login"))  # the provider does not know the key yet
        stub.client_jwks = published.get_json()  # registered at the provider as the client's jwks_uri
        assert stub_login(client).headers["Location"].endswith("/")
        assert "client_secret" not in stub.token_requests[-1] and stub.assertions[-1].header["kid"] == keys[0]["kid"]
        assert "张*" in page(client.get("/"))
    finally:
        with app.app_context():
            db.session.remove()
            from ..conftest import _restore_snapshot

            _restore_snapshot()
