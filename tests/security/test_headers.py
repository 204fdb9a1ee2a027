"""The security headers: on every page, the API, files; a nonce only where a page asks for one."""

from __future__ import annotations

import re
import timeit


def _csp(response) -> dict:
    return {d.split()[0]: d.split()[1:] for d in response.headers["Content-Security-Policy"].split("; ")}


def test_every_kind_of_response_carries_the_security_headers(app, client):
    for url in ("/", "/auth/login", "/v/not-a-token", "/api/v1/openapi.json", "/static/site.css", "/no-such-page"):
        response = client.get(url)
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", url
        assert headers["X-Frame-Options"] == "DENY", url
        assert headers["Referrer-Policy"] == "same-origin", url
        csp = _csp(response)
        assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"], url
        assert csp["script-src"][0] == "'self'" and "'unsafe-inline'" not in csp["script-src"], url
        assert csp["base-uri"] == ["'none'"], url
        assert "Strict-Transport-Security" not in headers, url  # served over plain HTTP here


def test_the_form_action_names_the_identity_provider_the_sign_in_redirects_to(app, client):
    assert _csp(client.get("/"))["form-action"] == ["'self'", app.config["DEV_IDP_URL"]]


def test_a_page_with_a_script_gets_a_fresh_nonce_that_its_script_carries(client, login_as):
    login_as(client, "张三")
    nonces = []
    for _ in range(2):
        response = client.get("/apply/scjgj-gtgsh-sldj")
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
        assert f'nonce="{nonce}"' in response.get_data(as_text=True)
        assert response.headers["Cache-Control"] == "no-store"  # a signed-in page is not cached
        nonces.append(nonce)
    assert nonces[0] != nonces[1] and len(nonces[0]) >= 22


def test_https_deployments_send_hsts():
    from flask import Flask

    from govservice.security import headers

    bare = Flask(__name__)
    bare.config["PUBLIC_URL"] = "https://zwfw.example.gov.cn"
    headers.init_app(bare)
    bare.add_url_rule("/", "home", lambda: "ok")
    response = bare.test_client().get("/")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_the_headers_cost_a_few_microseconds(app):
    """The verification page is a hot path: the hook appends precomputed values (about 3 µs on
    an idle core; the bound leaves room for a busy machine)."""
    hook = next(f for f in app.after_request_funcs[None] if getattr(f, "__name__", "") == "_security_headers")
    with app.test_request_context("/v/x"):
        response = app.response_class("x")
        before = len(response.headers)

        def once():
            hook(response)
            del response.headers._list[before:]  # as it came from the view, for the next round

        per_call = min(timeit.repeat(once, number=2000, repeat=5)) / 2000
        assert hook(response).headers["X-Frame-Options"] == "DENY"
    assert per_call < 15e-6, f"{per_call * 1e6:.1f} µs per response"
