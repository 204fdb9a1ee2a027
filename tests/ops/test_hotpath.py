"""The hot path (ops/hotpath.py): the verification page and the partner verify API answered
outside Flask's request cycle give the visitor exactly what Flask gives, log each check once,
and leave every other case to Flask before anything is counted."""

import os
import threading

import flask_babel
import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

from govservice.certificates import lifecycle, verification
from govservice.certificates.models import Verification
from govservice.core.extensions import db

from ..factories import bearer, call, issue, person, register_partner

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="the hot path answers from the memory the Redis mirror keeps (the PostgreSQL + Redis run)",
)

VERIFY = "/api/v1/certificates/verify"


@pytest.fixture
def app_config():
    # the limits on, as deployed: the hot path counts the page's and the partner's quotas too
    return {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "VERIFY_PAGE_RATE_LIMIT": "5/minute",
        "PARTNER_RATE_LIMIT": "5/minute",
    }


@pytest.fixture
def flask_calls(app, monkeypatch):
    """How many requests went through Flask's request cycle."""
    calls = []
    real = app.full_dispatch_request
    monkeypatch.setattr(app, "full_dispatch_request", lambda: calls.append(1) or real())
    return calls


@pytest.fixture
def flask_only(app):
    """A client of the same app without the hot path in front (the Flask application itself)."""
    return Client(app.wsgi_app.wsgi_app, Response)


@pytest.fixture
def live(ctx, clock):
    mirror = ctx.extensions["mirror"]
    assert mirror.wait_live()
    yield
    verification.flush()


def _logged(certificate, channel):
    verification.flush()
    query = db.select(Verification.result).where(
        Verification.certificate_id == certificate.id, Verification.channel == channel
    )
    return db.session.execute(query.order_by(Verification.id)).scalars().all()


def _same(hot, plain):
    """The two answers are the same to the visitor: status, body and headers (but the request id)."""
    assert hot.status_code == plain.status_code
    assert hot.get_data() == plain.get_data()
    strip = {"X-Request-ID"}
    assert sorted((k, v) for k, v in hot.headers.items() if k not in strip) == sorted(
        (k, v) for k, v in plain.headers.items() if k not in strip
    )
    assert hot.headers["X-Request-ID"]


def test_a_page_checked_before_is_answered_outside_flask_with_flasks_own_bytes_and_logged_once(
    app, live, client, flask_calls, flask_only
):
    certificate = issue()
    path = f"/v/{certificate.token}"
    first = client.get(path)  # read and rendered by Flask, kept in memory
    assert first.status_code == 200 and "有效" in first.get_data(as_text=True) and len(flask_calls) == 1
    hot = client.get(path)
    assert len(flask_calls) == 1  # Flask's request cycle did not run
    _same(hot, flask_only.get(path))
    assert client.get(path, headers={"X-Request-ID": "haproxy-4f1c2a9e"}).headers["X-Request-ID"] == "haproxy-4f1c2a9e"
    assert _logged(certificate, "page") == ["valid"] * 4  # each answer once, the hot ones too


def test_another_token_of_the_same_certificate_shares_its_page(app, live, client, flask_calls, flask_only):
    from govservice.certificates import services

    certificate = issue()
    store = services.key_store()
    again = store.sign(store.verify(certificate.token))  # the same claims signed anew (a QR shown again)
    assert again != certificate.token
    client.get(f"/v/{certificate.token}")
    hot = client.get(f"/v/{again}")
    assert len(flask_calls) == 1
    _same(hot, flask_only.get(f"/v/{again}"))
    assert f'value="/v/{again}"' in hot.get_data(as_text=True)
    assert _logged(certificate, "page") == ["valid"] * 3


def test_a_revocation_shows_at_once_and_its_first_page_is_rendered_by_flask_logged_once(app, live, client, flask_calls):
    certificate = issue()
    path = f"/v/{certificate.token}"
    client.get(path)
    client.get(path)
    lifecycle.revoke(certificate.id, person("刘洋"), "以欺骗手段取得登记")
    revoked = client.get(path)  # checked by the hot path, the page not rendered yet: Flask renders it
    assert revoked.status_code == 200 and "吊销" in revoked.get_data(as_text=True)
    assert len(flask_calls) == 2
    again = client.get(path)
    assert again.get_data() == revoked.get_data() and len(flask_calls) == 2
    assert _logged(certificate, "page") == ["valid", "valid", "revoked", "revoked"]


def test_a_signed_in_visitor_a_forged_token_and_a_query_are_left_to_flask(app, live, client, flask_calls, login_as):
    certificate = issue()
    path = f"/v/{certificate.token}"
    client.get(path)
    forged = certificate.token[:-2] + ("AA" if certificate.token[-2:] != "AA" else "BB")
    assert client.get(f"/v/{forged}").status_code == 404
    assert client.get(path + "?utm=poster").status_code == 200
    login_as(client, person("张三"))
    signed_in = client.get(path)
    assert signed_in.status_code == 200 and signed_in.headers["Cache-Control"] == "no-store"
    assert len(flask_calls) == 4
    assert _logged(certificate, "page") == ["valid"] * 3  # the forgery wrote nothing


def _forged(token, n):
    """The token with its signature's last characters changed (n: which forgery)."""
    return token[:-3] + "ABCDEFGHIJ"[n] + ("AA" if token[-2:] != "AA" else "BB")


def test_forged_tokens_cost_one_page_render_in_all_and_are_counted_never_logged(
    app, live, client, flask_calls, flask_only
):
    from govservice.certificates.verification import REFUSED

    certificate = issue()  # 5 checks in all: the page's rate limit here is 5 a minute
    refused = REFUSED.labels("page", "bad_signature")
    before = refused._value.get()
    first = client.get(f"/v/{_forged(certificate.token, 0)}")  # Flask renders the one forged page
    assert first.status_code == 404 and "伪造" in first.get_data(as_text=True)
    pages = [client.get(f"/v/{_forged(certificate.token, n)}") for n in range(1, 3)]
    assert len(flask_calls) == 1  # the other forgeries: the same page, its way back filled in
    for n, page in enumerate(pages, start=1):
        _same(page, flask_only.get(f"/v/{_forged(certificate.token, n)}"))
        assert f'value="/v/{_forged(certificate.token, n)}"' in page.get_data(as_text=True)
    assert refused._value.get() - before == 1 + 2 + 2  # each counted once (the Flask-only ones too)
    assert _logged(certificate, "page") == []


def test_the_page_rate_limit_is_counted_on_the_hot_path_and_refused_by_flask(app, live, client, flask_calls):
    certificate = issue()
    path = f"/v/{certificate.token}"
    codes = [client.get(path).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    assert len(flask_calls) == 2  # the first page and the refusal
    assert _logged(certificate, "page") == ["valid"] * 5  # the refused one is not a verification


@pytest.fixture
def partner(app, ctx, clock):
    row, secret = register_partner(scopes=("certificates:verify",))
    client = app.test_client()
    return client, bearer(client, row.client_id, secret)


def test_a_remembered_partner_is_answered_outside_flask_as_flask_answers(app, live, partner, flask_calls, flask_only):
    client, token = partner
    certificate = issue()
    body = {"identifier": certificate.identifier, "purpose": "房屋租赁备案核验", "pdf_sha256": certificate.pdf_sha256}
    first = call(client, token, VERIFY, body)
    assert first.get_json()["status"] == "valid" and first.get_json()["document_matches"] is True
    calls = len(flask_calls)
    hot = call(client, token, VERIFY, body)
    by_token = call(client, token, VERIFY, {"token": certificate.token, "purpose": "房屋租赁备案核验"})
    assert len(flask_calls) == calls  # neither went through Flask
    plain = flask_only.post(VERIFY, json=body, headers={"Authorization": f"Bearer {token}"})
    _same(hot, plain)  # the same bytes: the test's clock stands still, so checked_at is the same too
    assert plain.get_json()["status"] == by_token.get_json()["status"] == "valid"
    assert _logged(certificate, "api") == ["valid"] * 4


def test_the_hot_api_needs_no_app_context(app, live, partner, flask_calls, flask_only):
    """It names what it needs of the app: a thread that has no context of the app is answered hot."""
    client, token = partner
    certificate = issue()
    body = {"identifier": certificate.identifier, "purpose": "房屋租赁备案核验"}
    call(client, token, VERIFY, body)  # Flask: the token and the certificate are remembered
    calls, answers = len(flask_calls), []
    thread = threading.Thread(target=lambda: answers.append(call(client, token, VERIFY, body)))
    thread.start()
    thread.join()
    assert len(flask_calls) == calls
    _same(answers[0], flask_only.post(VERIFY, json=body, headers={"Authorization": f"Bearer {token}"}))
    assert _logged(certificate, "api") == ["valid"] * 3


def test_the_hot_api_tells_the_time_of_each_check_and_a_revocation_at_once(
    app, live, partner, clock, flask_calls, flask_only
):
    client, token = partner
    certificate = issue()
    body = {"identifier": certificate.identifier, "purpose": "房屋租赁备案核验"}
    first = call(client, token, VERIFY, body)  # Flask
    clock.advance(seconds=90)
    later = call(client, token, VERIFY, body)  # hot: the answer kept, the time of this check in it
    assert later.get_json()["checked_at"] == clock.now().isoformat() != first.get_json()["checked_at"]
    _same(later, flask_only.post(VERIFY, json=body, headers={"Authorization": f"Bearer {token}"}))
    calls = len(flask_calls)
    lifecycle.revoke(certificate.id, person("刘洋"), "以欺骗手段取得登记")
    revoked = call(client, token, VERIFY, body)  # the snapshot forgotten at the commit: Flask reads it
    assert revoked.get_json()["status"] == "revoked" and len(flask_calls) == calls + 1
    again = call(client, token, VERIFY, body)  # hot again, with the new answer
    assert again.get_data() == revoked.get_data() and len(flask_calls) == calls + 1
    assert again.get_json()["status_label"] == "已吊销"
    assert _logged(certificate, "api") == ["valid"] * 3 + ["revoked"] * 2


def test_the_hot_api_tells_whether_the_pdf_matches_as_flask_does(app, live, partner, flask_calls, flask_only):
    client, token = partner
    certificate = issue()
    asked = {"identifier": certificate.identifier, "purpose": "房屋租赁备案核验"}
    call(client, token, VERIFY, asked)  # Flask
    calls = len(flask_calls)
    wrong = call(client, token, VERIFY, dict(asked, pdf_sha256="0" * 64))
    right = call(client, token, VERIFY, dict(asked, pdf_sha256=certificate.pdf_sha256.upper()))
    unasked = call(client, token, VERIFY, asked)
    assert len(flask_calls) == calls  # all three hot
    assert wrong.get_json()["document_matches"] is False and right.get_json()["document_matches"] is True
    assert "document_matches" not in unasked.get_json()
    plain = flask_only.post(VERIFY, json=dict(asked, pdf_sha256="0" * 64), headers={"Authorization": f"Bearer {token}"})
    _same(wrong, plain)
    assert _logged(certificate, "api") == ["valid"] * 5


def test_a_wrong_body_or_an_unknown_token_reaches_flask_whole_and_is_refused_as_before(app, live, partner, flask_calls):
    client, token = partner
    certificate = issue()
    call(client, token, VERIFY, {"identifier": certificate.identifier, "purpose": "核验"})
    calls = len(flask_calls)
    short = call(client, token, VERIFY, {"identifier": certificate.identifier, "purpose": "核"})
    assert short.status_code == 400 and "purpose" in short.get_json()["message"]  # the body read twice, whole
    both = call(client, token, VERIFY, {"identifier": certificate.identifier, "token": "x", "purpose": "核验"})
    assert both.status_code == 400 and both.get_json()["error"] == "invalid_request"
    wrong = call(client, token, VERIFY, {"identifier": "1.2.156.bad", "purpose": "核验"})
    assert wrong.status_code == 400 and wrong.get_json()["error"] == "invalid_identifier"
    stranger = call(client, "not-a-token-of-ours", VERIFY, {"identifier": certificate.identifier, "purpose": "核验"})
    assert stranger.status_code == 401 and stranger.get_json()["error"] == "invalid_token"
    assert len(flask_calls) == calls + 4
    # the partner's quota (5/minute) counted every call of its token, the hot ones and the refused alike
    fifth = call(client, token, VERIFY, {"identifier": certificate.identifier, "purpose": "核验"})
    assert fifth.status_code == 200 and len(flask_calls) == calls + 4
    sixth = call(client, token, VERIFY, {"identifier": certificate.identifier, "purpose": "核验"})
    assert sixth.status_code == 429 and sixth.get_json()["error"] == "rate_limited"
    assert _logged(certificate, "api") == ["valid", "valid"]


def test_a_partner_without_the_scope_is_refused_by_flask(app, live, flask_calls):
    row, secret = register_partner(scopes=("certificates:read",))
    client = app.test_client()
    token = bearer(client, row.client_id, secret)
    certificate = issue()
    for _ in range(2):
        refused = call(client, token, VERIFY, {"identifier": certificate.identifier, "purpose": "核验"})
        assert refused.status_code == 403 and refused.get_json()["error"] == "insufficient_scope"
    assert _logged(certificate, "api") == []


def test_a_call_with_a_session_that_chose_english_is_answered_by_flask_in_english(app, live, partner, flask_calls):
    client, token = partner
    certificate = issue()
    body = {"identifier": certificate.identifier, "purpose": "核验"}
    assert call(client, token, VERIFY, body).get_json()["status_label"] == "有效"
    assert call(client, token, VERIFY, body).get_json()["status_label"] == "有效"  # the hot path, in Chinese
    client.post("/lang", data={"lang": "en"})
    # Flask reuses the test's app context for its requests, and Flask-Babel keeps the language
    # there (`g`); a deployment has an app context per request
    flask_babel.refresh()
    calls = len(flask_calls)
    assert call(client, token, VERIFY, body).get_json()["status_label"] == "Valid"
    assert len(flask_calls) == calls + 1
