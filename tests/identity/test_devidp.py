"""The development OpenID Connect provider, driven over real HTTP as a relying party would.

The IdP runs in a background thread on a free port with its own instance directory, and is
exercised with `requests` and Authlib's client, so these tests check the wire protocol rather
than the implementation. They define their own fixtures and need nothing from conftest.
"""

from __future__ import annotations

import os
import stat
import time
from html.parser import HTMLParser
from types import SimpleNamespace
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.flask_client import OAuth
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from flask import Flask, jsonify, url_for
from joserfc import jwt
from joserfc.jwk import KeySet

from govservice.core.keys import instance_secret
from govservice.identity.devidp import create_idp_app, serve_in_thread
from govservice.identity.devidp.identities import IDENTITIES
from govservice.identity.devidp.signing_key import key_path
from govservice.identity.devidp.store import AuthorizationCode, Login, MemoryStore

from ..ports import free_port

REDIRECT_URI = "http://127.0.0.1:5000/auth/callback/devidp"
SCOPE = "openid profile phone"


# --- fixtures and helpers -------------------------------------------------------------------


def _start_idp(instance_dir, clients=None):
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    server, thread = serve_in_thread(create_idp_app(issuer, str(instance_dir), clients), "127.0.0.1", port)
    return SimpleNamespace(issuer=issuer, server=server, thread=thread)


def _stop_idp(idp) -> None:
    idp.server.shutdown()
    idp.thread.join(timeout=5)


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    """A live IdP with the default development client."""
    instance_dir = tmp_path_factory.mktemp("devidp-instance")
    live = _start_idp(instance_dir)
    live.client_id = "govservice"
    live.client_secret = instance_secret(str(instance_dir), "devidp_client_secret", "DEV_IDP_CLIENT_SECRET")
    yield live
    _stop_idp(live)


@pytest.fixture
def browser():
    """A fresh cookie jar per test: the IdP session must not leak between tests."""
    with requests.Session() as session:
        yield session


def _oauth_client(idp, **kwargs) -> OAuth2Session:
    return OAuth2Session(
        idp.client_id, idp.client_secret, scope=SCOPE, redirect_uri=REDIRECT_URI, code_challenge_method="S256", **kwargs
    )


class _Forms(HTMLParser):
    """Collects each form's action, hidden fields and submit buttons, like a browser would."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._button: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action", ""), "fields": [], "buttons": []})
        elif tag == "input" and attrs.get("type") == "hidden":
            self.forms[-1]["fields"].append((attrs["name"], attrs.get("value", "")))
        elif tag == "button":
            self._button = {"name": attrs.get("name"), "value": attrs.get("value", ""), "text": ""}
            self.forms[-1]["buttons"].append(self._button)

    def handle_data(self, data):
        if self._button is not None:
            self._button["text"] += data

    def handle_endtag(self, tag):
        if tag == "button":
            self._button = None


def _click(browser, page: requests.Response, button_text: str) -> requests.Response:
    """Submit the form holding the button labelled `button_text`; do not follow the redirect."""
    parser = _Forms()
    parser.feed(page.text)
    for form in parser.forms:
        for button in form["buttons"]:
            if button["text"].strip() == button_text:
                data = form["fields"] + [(button["name"], button["value"])]
                return browser.post(urljoin(page.url, form["action"]), data=data, allow_redirects=False)
    raise AssertionError(f"no button {button_text!r} on the page")


def _sign_in(idp, browser, client, button="以 张三 登录", **params):
    """Run the front channel: returns (callback URL, code_verifier, state, nonce)."""
    verifier = generate_token(48)
    nonce = generate_token(20)
    url, state = client.create_authorization_url(
        f"{idp.issuer}/authorize", code_verifier=verifier, nonce=nonce, **params
    )
    page = browser.get(url)
    assert page.status_code == 200
    answer = _click(browser, page, button)
    assert answer.status_code == 302
    return answer.headers["Location"], verifier, state, nonce


def _query(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _verify_id_token(idp, id_token: str, nonce: str):
    keys = KeySet.import_key_set(requests.get(f"{idp.issuer}/jwks.json").json())
    token = jwt.decode(id_token, keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": idp.issuer},
        aud={"essential": True, "value": idp.client_id},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
        iat={"essential": True},
        auth_time={"essential": True},
    ).validate(token.claims)
    return token


# --- discovery and keys ---------------------------------------------------------------------


def test_discovery_document_describes_the_provider(idp):
    doc = requests.get(f"{idp.issuer}/.well-known/openid-configuration").json()
    assert doc["issuer"] == idp.issuer
    for field, path in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("jwks_uri", "/jwks.json"),
        ("end_session_endpoint", "/logout"),
    ]:
        assert doc[field] == idp.issuer + path
    assert doc["response_types_supported"] == ["code"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert doc["acr_values_supported"] == ["1", "2", "3"]
    assert doc["subject_types_supported"] == ["public"]
    assert set(doc["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post"}
    assert {"openid", "profile", "phone"} <= set(doc["scopes_supported"])
    assert {"sub", "name", "id_number", "phone_number", "acr"} <= set(doc["claims_supported"])


def test_jwks_publishes_only_the_public_key(idp):
    (key,) = requests.get(f"{idp.issuer}/jwks.json").json()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["kid"]
    assert "d" not in key and "p" not in key


def test_signing_key_is_kept_in_the_instance_dir_and_reused(tmp_path):
    first = _start_idp(tmp_path)
    kid = requests.get(f"{first.issuer}/jwks.json").json()["keys"][0]["kid"]
    _stop_idp(first)
    second = _start_idp(tmp_path)
    try:
        assert requests.get(f"{second.issuer}/jwks.json").json()["keys"][0]["kid"] == kid
    finally:
        _stop_idp(second)
    path = key_path(str(tmp_path))
    assert path == tmp_path / "keys" / "devidp_signing_key.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


# --- login page -----------------------------------------------------------------------------


def test_login_page_offers_every_identity_in_chinese(idp, browser):
    url, _ = _oauth_client(idp).create_authorization_url(f"{idp.issuer}/authorize", code_verifier=generate_token(48))
    page = browser.get(url)
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    assert "开发用身份提供方（仅限开发和测试）" in page.text
    assert "110105********0035" in page.text and "110105198802150035" not in page.text
    parser = _Forms()
    parser.feed(page.text)
    labels = [b["text"].strip() for form in parser.forms for b in form["buttons"]]
    assert labels == [f"以 {i['name']} 登录" for i in IDENTITIES] + ["取消"]
    assert "<script" not in page.text and "<link" not in page.text


# --- the authorization code flow ------------------------------------------------------------


def test_code_flow_with_pkce_issues_a_verifiable_id_token(idp, browser):
    client = _oauth_client(idp)
    callback, verifier, state, nonce = _sign_in(idp, browser, client)
    assert callback.startswith(REDIRECT_URI + "?")
    assert _query(callback)["state"] == state

    tokens = client.fetch_token(f"{idp.issuer}/token", authorization_response=callback, code_verifier=verifier)

    assert tokens["token_type"].lower() == "bearer"
    id_token = _verify_id_token(idp, tokens["id_token"], nonce)
    keys = requests.get(f"{idp.issuer}/jwks.json").json()["keys"]
    assert (id_token.header["alg"], id_token.header["kid"]) == ("RS256", keys[0]["kid"])
    claims = id_token.claims
    assert claims["sub"] == "dev-zhangsan"
    assert claims["name"] == "张三"
    assert claims["id_number"] == "110105198802150035"
    assert claims["phone_number"] == "13800000001"
    assert claims["acr"] == "2"
    assert claims["exp"] - claims["iat"] == 600
    assert claims["auth_time"] <= claims["iat"] <= time.time() + 1


def test_client_secret_post_is_accepted(idp, browser):
    client = _oauth_client(idp, token_endpoint_auth_method="client_secret_post")
    callback, verifier, _, nonce = _sign_in(idp, browser, client, button="以 李娜 登录")
    tokens = client.fetch_token(f"{idp.issuer}/token", authorization_response=callback, code_verifier=verifier)
    claims = _verify_id_token(idp, tokens["id_token"], nonce).claims
    assert (claims["sub"], claims["acr"]) == ("dev-lina", "3")


def test_a_step_up_request_is_met_when_the_person_can_reach_the_level(idp, browser):
    client = _oauth_client(idp)
    callback, verifier, _, nonce = _sign_in(idp, browser, client, acr_values="3")
    tokens = client.fetch_token(f"{idp.issuer}/token", authorization_response=callback, code_verifier=verifier)
    assert _verify_id_token(idp, tokens["id_token"], nonce).claims["acr"] == "3"


def test_a_level_the_person_cannot_reach_is_not_asserted(idp, browser):
    client = _oauth_client(idp)
    callback, verifier, _, nonce = _sign_in(idp, browser, client, button="以 周杰 登录", acr_values="3")
    tokens = client.fetch_token(f"{idp.issuer}/token", authorization_response=callback, code_verifier=verifier)
    assert _verify_id_token(idp, tokens["id_token"], nonce).claims["acr"] == "1"


def test_an_ordinary_login_carries_the_ordinary_level(idp, browser):
    client = _oauth_client(idp)
    callback, verifier, _, nonce = _sign_in(idp, browser, client, button="以 周杰 登录")
    tokens = client.fetch_token(f"{idp.issuer}/token", authorization_response=callback, code_verifier=verifier)
    assert _verify_id_token(idp, tokens["id_token"], nonce).claims["acr"] == "1"


def test_every_level_has_several_people():
    levels = [i["acr"] for i in IDENTITIES]
    assert all(levels.count(level) >= 2 for level in ("1", "2", "3"))


def test_the_roles_scope_releases_staff_roles(idp, browser):
    client = OAuth2Session(
        idp.client_id,
        idp.client_secret,
        scope=SCOPE + " roles",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
    )
    callback, verifier, _, nonce = _sign_in(idp, browser, client, button="以 刘洋 登录")
    tokens = client.fetch_token(f"{idp.issuer}/token", authorization_response=callback, code_verifier=verifier)
    assert _verify_id_token(idp, tokens["id_token"], nonce).claims["roles"] == ["officer:scjgj"]
    assert client.get(f"{idp.issuer}/userinfo").json()["roles"] == ["officer:scjgj"]


def test_a_second_instance_names_the_same_people_under_other_subjects(tmp_path, browser):
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    server, thread = serve_in_thread(create_idp_app(issuer, str(tmp_path), subject_prefix="gov2-"), "127.0.0.1", port)
    live = SimpleNamespace(
        issuer=issuer,
        server=server,
        thread=thread,
        client_id="govservice",
        client_secret=instance_secret(str(tmp_path), "devidp_client_secret", "DEV_IDP_CLIENT_SECRET"),
    )
    try:
        client = _oauth_client(live)
        callback, verifier, _, nonce = _sign_in(live, browser, client)
        tokens = client.fetch_token(f"{issuer}/token", authorization_response=callback, code_verifier=verifier)
        claims = _verify_id_token(live, tokens["id_token"], nonce).claims
    finally:
        _stop_idp(live)
    assert (claims["sub"], claims["id_number"], claims["iss"]) == ("gov2-zhangsan", "110105198802150035", issuer)


def test_userinfo_returns_the_same_claims(idp, browser):
    client = _oauth_client(idp)
    callback, verifier, _, _ = _sign_in(idp, browser, client, button="以 王五 登录")
    client.fetch_token(f"{idp.issuer}/token", authorization_response=callback, code_verifier=verifier)

    info = client.get(f"{idp.issuer}/userinfo").json()

    assert info == {
        "sub": "dev-wangwu",
        "name": "王五",
        "id_number": "110108197802151518",
        "phone_number": "13800000003",
        "acr": "2",
    }


def test_userinfo_refuses_an_unknown_token(idp):
    answer = requests.get(f"{idp.issuer}/userinfo", headers={"Authorization": "Bearer not-a-token"})
    assert answer.status_code == 401


def test_a_replayed_code_is_invalid_grant_and_revokes_its_tokens(idp, browser):
    client = _oauth_client(idp)
    callback, verifier, _, _ = _sign_in(idp, browser, client)
    tokens = client.fetch_token(f"{idp.issuer}/token", authorization_response=callback, code_verifier=verifier)

    with pytest.raises(OAuthError) as refused:
        _oauth_client(idp).fetch_token(f"{idp.issuer}/token", authorization_response=callback, code_verifier=verifier)

    assert refused.value.error == "invalid_grant"
    answer = requests.get(f"{idp.issuer}/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert answer.status_code == 401


def test_a_wrong_code_verifier_is_invalid_grant(idp, browser):
    client = _oauth_client(idp)
    callback, _, _, _ = _sign_in(idp, browser, client)
    with pytest.raises(OAuthError) as refused:
        client.fetch_token(f"{idp.issuer}/token", authorization_response=callback, code_verifier=generate_token(48))
    assert refused.value.error == "invalid_grant"


@pytest.mark.parametrize(
    "pkce", [{}, {"code_challenge": "a" * 43, "code_challenge_method": "plain"}, {"code_challenge": "a" * 43}]
)
def test_an_authorization_request_without_s256_pkce_is_refused(idp, browser, pkce):
    client = OAuth2Session(idp.client_id, idp.client_secret, scope=SCOPE, redirect_uri=REDIRECT_URI)
    url, state = client.create_authorization_url(f"{idp.issuer}/authorize", **pkce)

    answer = browser.get(url, allow_redirects=False)

    assert answer.status_code == 302
    params = _query(answer.headers["Location"])
    assert (params["error"], params["state"]) == ("invalid_request", state)


def test_an_unregistered_redirect_uri_is_shown_not_followed(idp, browser):
    client = OAuth2Session(
        idp.client_id,
        idp.client_secret,
        scope=SCOPE,
        code_challenge_method="S256",
        redirect_uri="http://evil.example/auth/callback/devidp",
    )
    url, _ = client.create_authorization_url(f"{idp.issuer}/authorize", code_verifier=generate_token(48))
    answer = browser.get(url, allow_redirects=False)
    assert answer.status_code == 400
    assert "Location" not in answer.headers


def test_cancel_returns_access_denied_with_state(idp, browser):
    state = 'odd "state" <b>&amp;'  # must survive the round trip through the page's hidden fields
    url, _ = _oauth_client(idp).create_authorization_url(
        f"{idp.issuer}/authorize", state=state, code_verifier=generate_token(48)
    )
    answer = _click(browser, browser.get(url), "取消")
    assert answer.status_code == 302
    params = _query(answer.headers["Location"])
    assert (params["error"], params["state"]) == ("access_denied", state)
    assert answer.headers["Location"].startswith(REDIRECT_URI)


def test_a_standard_authlib_flask_relying_party_signs_in(idp, browser):
    """The platform's kind of client: discovery, PKCE, nonce and ID token checks by Authlib."""
    rp = Flask("relying_party")
    rp.secret_key = generate_token(32)
    oauth = OAuth(rp)
    oauth.register(
        "devidp",
        client_id=idp.client_id,
        client_secret=idp.client_secret,
        server_metadata_url=f"{idp.issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": SCOPE, "code_challenge_method": "S256"},
    )

    @rp.get("/login")
    def login():
        return oauth.devidp.authorize_redirect(url_for("callback", _external=True))

    @rp.get("/auth/callback/devidp")
    def callback():
        return jsonify(oauth.devidp.authorize_access_token()["userinfo"])

    rp_port = free_port()
    rp_server, rp_thread = serve_in_thread(rp, "127.0.0.1", rp_port)
    try:
        page = browser.get(f"http://127.0.0.1:{rp_port}/login")
        answer = _click(browser, page, "以 赵敏 登录")
        claims = browser.get(answer.headers["Location"]).json()
    finally:
        rp_server.shutdown()
        rp_thread.join(timeout=5)
    assert (claims["sub"], claims["name"], claims["acr"]) == ("dev-zhaomin", "赵敏", "2")
    assert claims["iss"] == idp.issuer and claims["aud"] == idp.client_id


# --- session and logout ---------------------------------------------------------------------


def test_logout_ends_the_idp_session_and_returns_with_state(idp, browser):
    client = _oauth_client(idp)
    callback, verifier, _, _ = _sign_in(idp, browser, client)
    tokens = client.fetch_token(f"{idp.issuer}/token", authorization_response=callback, code_verifier=verifier)
    silent, state = client.create_authorization_url(f"{idp.issuer}/authorize", code_verifier=verifier, prompt="none")
    assert "code" in _query(browser.get(silent, allow_redirects=False).headers["Location"])

    back = "http://127.0.0.1:5000/"
    answer = browser.get(
        f"{idp.issuer}/logout",
        allow_redirects=False,
        params={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": back, "state": "bye-42"},
    )

    assert answer.status_code == 302
    assert answer.headers["Location"] == back + "?state=bye-42"
    after = _query(browser.get(silent, allow_redirects=False).headers["Location"])
    assert (after["error"], after["state"]) == ("login_required", state)


def test_logout_without_a_redirect_shows_a_page(idp, browser):
    answer = browser.get(f"{idp.issuer}/logout", allow_redirects=False)
    assert answer.status_code == 200
    assert "已退出" in answer.text


# --- registered clients and code lifetime ---------------------------------------------------


def test_registered_clients_need_an_exact_redirect_uri(tmp_path, browser):
    registered = {
        "client_id": "partner",
        "client_secret": "s3cret",
        "scope": SCOPE,
        "redirect_uris": ["http://127.0.0.1:8000/oidc/back"],
    }
    live = _start_idp(tmp_path, clients=[registered])
    live.client_id, live.client_secret = "partner", "s3cret"
    try:
        for redirect_uri, status in [("http://127.0.0.1:8000/oidc/back", 200), (REDIRECT_URI, 400)]:
            client = OAuth2Session(
                "partner", "s3cret", scope=SCOPE, redirect_uri=redirect_uri, code_challenge_method="S256"
            )
            url, _ = client.create_authorization_url(f"{live.issuer}/authorize", code_verifier=generate_token(48))
            assert browser.get(url, allow_redirects=False).status_code == status
    finally:
        _stop_idp(live)


def test_codes_expire_after_sixty_seconds():
    store = MemoryStore()
    login = Login(identity=IDENTITIES[0], auth_time=int(time.time()))
    for code, age in [("fresh", 50), ("stale", 61)]:
        store.add_code(
            AuthorizationCode(
                code=code,
                client_id="govservice",
                redirect_uri=REDIRECT_URI,
                scope=SCOPE,
                login=login,
                nonce=None,
                code_challenge="x" * 43,
                code_challenge_method="S256",
                issued_at=time.time() - age,
            )
        )
    assert store.take_code("fresh", "other-client") is None
    assert store.take_code("fresh", "govservice") is not None
    assert store.take_code("stale", "govservice") is None
