"""The providers file (OIDC_PROVIDERS_FILE): what it may say, what is refused when the app
starts, and what a provider's configuration means for logins."""

from __future__ import annotations

import pytest

from govservice.core.keys import instance_secret
from govservice.identity.providers import Provider, ProviderConfigError, parse_provider

from .conftest import devidp_spec
from .helpers import page, providers_file

VALID = {
    "title": "省统一身份认证平台",
    "issuer": "https://idp.example.gov.cn/",
    "client_id": "govservice",
    "client_secret": "s3cret",
}


def test_a_full_entry_is_read_with_defaults():
    provider = parse_provider(
        "provincial", dict(VALID, acr_levels={"urn:loa:2": 2, "urn:loa:3": 3}, role_claim="roles")
    )
    assert provider.issuer == "https://idp.example.gov.cn"  # no trailing slash: compared with iss exactly
    assert (provider.scope, provider.id_number_claim, provider.name_claim) == (
        "openid profile phone",
        "id_number",
        "name",
    )
    assert provider.level_of("urn:loa:3") == 3 and provider.level_of("unknown") == 1 and provider.level_of(None) == 1
    assert provider.acr_values_for(2) == "urn:loa:2 urn:loa:3" and provider.acr_values_for(3) == "urn:loa:3"
    assert provider.max_level == 3
    assert "s3cret" not in repr(provider)


def test_the_client_secret_may_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("PROVINCIAL_SECRET", "from-env")
    spec = {k: v for k, v in VALID.items() if k != "client_secret"} | {"client_secret_env": "PROVINCIAL_SECRET"}
    assert parse_provider("provincial", spec).client_secret == "from-env"


@pytest.mark.parametrize(
    "name, change, message",
    [
        ("Provincial!", {}, "lowercase"),
        ("provincial", {"colour": "red"}, "unknown keys"),
        ("provincial", {"title": ""}, "'title' is required"),
        ("provincial", {"client_secret": ""}, "client_secret"),
        ("provincial", {"issuer": "http://idp.example.gov.cn"}, "https"),
        ("provincial", {"scope": "profile phone"}, "openid"),
        ("provincial", {"acr_levels": {"high": 4}}, "levels 1, 2 or 3"),
        ("provincial", {"token_endpoint_auth_method": "client_secret_jwt"}, "client_secret_basic"),
    ],
)
def test_a_wrong_entry_stops_the_start_with_the_reason(name, change, message):
    with pytest.raises(ProviderConfigError, match=message):
        parse_provider(name, dict(VALID, **change))


def test_a_providers_file_that_cannot_be_read_stops_the_start(tmp_path, app):
    from govservice import create_app

    broken = tmp_path / "broken.toml"
    broken.write_text("[providers.x\n", encoding="utf-8")
    for path in (str(broken), str(tmp_path / "missing.toml")):
        with pytest.raises(ProviderConfigError):
            create_app(
                {
                    **{k: app.config[k] for k in ("TESTING", "INSTANCE_DIR", "SQLALCHEMY_DATABASE_URI")},
                    "OIDC_PROVIDERS_FILE": path,
                }
            )


def test_loopback_http_issuers_are_allowed_for_development():
    assert isinstance(parse_provider("local", dict(VALID, issuer="http://127.0.0.1:5001")), Provider)


@pytest.fixture
def app_config(providers_dir, idp, instance_dir):
    secret = instance_secret(instance_dir, "devidp_client_secret", "DEV_IDP_CLIENT_SECRET")
    return {
        "OIDC_PROVIDERS_FILE": providers_file(
            providers_dir, devidp=devidp_spec(idp, secret, title="开发用身份提供方", acr_levels={"1": 1, "2": 2})
        )
    }


def test_with_no_provider_able_to_assert_the_level_the_person_is_sent_to_the_window(app, client, login):
    from govservice.catalog.models import ServiceItem
    from govservice.core.extensions import db

    with app.app_context():
        item = db.session.execute(
            db.select(ServiceItem).where(ServiceItem.code == "scjgj-gtgsh-sldj", ServiceItem.is_current.is_(True))
        ).scalar_one()
        item.level_of_assurance = 3
        db.session.commit()
    login(client, "张三")
    body = page(client.get(client.get("/apply/scjgj-gtgsh-sldj").headers["Location"]))
    assert "目前没有能提供3级认证的身份提供方，请到政务服务大厅窗口办理。" in body
    refused = client.get("/auth/login/devidp?level=3&next=/", follow_redirects=True)
    assert "开发用身份提供方 无法提供3级认证" in page(refused)


def test_a_provider_that_is_not_configured_is_not_found(client):
    assert client.get("/auth/login/elsewhere").status_code == 404
    assert client.get("/auth/callback/elsewhere?code=x&state=y").status_code == 404
