"""/api/v1 for partner systems: certificates:verify answers every status for a token or an
identifier; every call is rate-limited per client and logged where the holder sees it; the
OpenAPI document describes it all."""

import time

import pytest
from openapi_schema_validator import OAS30Validator, validate
from openapi_spec_validator import validate as validate_spec

from govservice import create_app
from govservice.audit.models import AuditEntry
from govservice.certificates import lifecycle, services
from govservice.certificates.models import Verification
from govservice.core.extensions import db
from govservice.partners import openapi

from ..factories import bearer, call, issue, person, register_partner, verifications_audited

VERIFY = "/api/v1/certificates/verify"


@pytest.fixture
def partner(app, ctx, clock):
    client_row, secret = register_partner(scopes=("certificates:verify",))
    client = app.test_client()
    return client, bearer(client, client_row.client_id, secret), lambda: bearer(client, client_row.client_id, secret)


def _matches(answer, schema_name):
    """The answer conforms to the schema the OpenAPI document gives it (inside an app context)."""
    document = openapi.document()
    validate(
        answer.get_json(),
        {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]},
        cls=OAS30Validator,
    )


def test_every_status_for_a_token_or_an_identifier(app, ctx, clock, partner):
    client, _token, renew = partner
    officer = person("刘洋")
    valid, revoked, suspended, changed = issue(), issue(), issue(), issue("spjyxkz")
    lifecycle.revoke(revoked.id, officer, "以欺骗手段取得登记")
    lifecycle.suspend(suspended.id, officer, "责令整改")
    newer = lifecycle.supersede(changed.id, officer, {"premises": "北京市朝阳区示例路22号"}, "经营场所变更")
    expired = issue("jzz")
    clock.advance(days=366)
    token = renew()  # the access token lives an hour
    cases = [
        ({"token": valid.token}, "valid"),
        ({"identifier": valid.identifier}, "valid"),
        ({"token": revoked.token}, "revoked"),
        ({"identifier": suspended.identifier}, "suspended"),
        ({"token": changed.token}, "superseded"),
        ({"identifier": expired.identifier}, "expired"),
        ({"token": valid.token[:-2] + ("AA" if valid.token[-2:] != "AA" else "BB")}, "forged"),
        ({"identifier": valid.identifier.replace(".0000000001.", ".0000009999.")[:-1] + "0"}, None),
    ]
    for body, status in cases:
        answer = call(client, token, VERIFY, dict(body, purpose="核验经营资格"))
        if status is None:  # a made-up identifier: the check character gives it away
            assert answer.status_code == 400 and answer.get_json()["error"] == "invalid_identifier"
            continue
        assert answer.status_code == 200, (body, answer.get_data(as_text=True))
        result = answer.get_json()
        assert result["status"] == status, (body, result)
        _matches(answer, "VerifyResult")
        if status == "forged":
            assert result["certificate"] is None
        else:
            assert result["certificate"]["holder"] in ("张*", "王*", "李*")
            assert "110105198802150035" not in answer.get_data(as_text=True)
    superseded = call(client, token, VERIFY, {"identifier": changed.identifier, "purpose": "核验"}).get_json()
    assert superseded["certificate"]["superseded_by"] == newer.identifier


def test_a_well_formed_identifier_that_was_never_issued_is_not_found(ctx, clock, partner):
    from govservice.certificates.identifiers import make_identifier

    client, token, _renew = partner
    unknown = make_identifier("XSCJGJ001", "11110105MB0000001C", 424242)
    answer = call(client, token, VERIFY, {"identifier": unknown, "purpose": "核验"})
    assert answer.status_code == 200 and answer.get_json()["status"] == "not_found"
    assert answer.get_json()["certificate"] is None


def test_the_holder_sees_who_checked_when_and_why(app, ctx, clock, partner, login_as):
    client, token, _renew = partner
    certificate = issue()
    pdf = services.pdf_bytes(certificate)
    import hashlib

    answer = call(
        client,
        token,
        VERIFY,
        {
            "identifier": certificate.identifier,
            "purpose": "办理食品经营许可前核验营业执照",
            "pdf_sha256": hashlib.sha256(pdf).hexdigest(),
        },
    )
    assert answer.get_json()["document_matches"] is True
    other = call(
        client, token, VERIFY, {"identifier": certificate.identifier, "purpose": "再次核验", "pdf_sha256": "0" * 64}
    )
    assert other.get_json()["document_matches"] is False
    holder = app.test_client()
    login_as(holder, "张三")
    wallet = holder.get("/wallet").get_data(as_text=True)
    assert "卫生健康委员会（公共场所卫生许可审批系统）" in wallet and "办理食品经营许可前核验营业执照" in wallet
    assert "系统核验" in wallet
    logged = db.session.execute(db.select(Verification).order_by(Verification.id)).scalars().first()
    assert (logged.channel, logged.client.client_id, logged.result) == ("api", logged.client.client_id, "valid")
    assert verifications_audited() == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"purpose": "核验"}, "token（二维码令牌）或 identifier"),
        ({"token": "a", "identifier": "b", "purpose": "核验"}, "token（二维码令牌）或 identifier"),
        ({"identifier": 42, "purpose": "核验"}, "token（二维码令牌）或 identifier"),
        ({"identifier": "1.2.156.3005.2.X.Y.1.001.Z"}, "purpose"),
        ({"identifier": "1.2.156.3005.2.X.Y.1.001.Z", "purpose": "x" * 201}, "purpose"),
        ({"identifier": "1.2.156.3005.2.X.Y.1.001.Z", "purpose": "核验", "pdf_sha256": "abc"}, "SHA-256"),
        ({"identifier": "not an identifier", "purpose": "核验"}, "证照标识格式不正确"),
        ([1, 2], "JSON 对象"),
    ],
)
def test_bad_requests_get_a_clear_message(ctx, clock, partner, body, message):
    client, token, _renew = partner
    answer = call(client, token, VERIFY, body)
    assert answer.status_code == 400 and message in answer.get_json()["message"]
    _matches(answer, "Error")


def test_no_token_or_no_scope_is_refused_and_audited(app, ctx, clock):
    client = app.test_client()
    missing = client.post(VERIFY, json={"identifier": "x", "purpose": "核验"})
    assert missing.status_code == 401 and missing.get_json()["error"] == "missing_authorization"
    wrong = call(client, "made-up-token", VERIFY, {"identifier": "x", "purpose": "核验"})
    assert wrong.status_code == 401 and wrong.get_json()["error"] == "invalid_token"
    reader, secret = register_partner(scopes=("certificates:read",))
    token = bearer(client, reader.client_id, secret)
    refused = call(client, token, VERIFY, {"identifier": "x", "purpose": "核验"})
    assert refused.status_code == 403 and refused.get_json()["error"] == "insufficient_scope"
    assert "certificates:verify" in refused.get_json()["message"]
    audited = db.session.execute(
        db.select(AuditEntry.subject, AuditEntry.detail)
        .where(AuditEntry.action == "partner.refused")
        .order_by(AuditEntry.id)
    ).all()
    assert [d["error"] for _s, d in audited] == ["missing_authorization", "invalid_token", "insufficient_scope"]
    assert audited[-1][0] == f"partner:{reader.client_id}"
    assert db.session.execute(db.select(db.func.count(Verification.id))).scalar_one() == 0


# Committed: an app of its own with the limits on works on the test database.
@pytest.mark.committed
def test_calls_are_rate_limited_per_client(app, tmp_path, clock):
    limited = create_app(
        dict(app.config, RATELIMIT_ENABLED=True, PARTNER_RATE_LIMIT="3/minute", RATELIMIT_STORAGE_URI="memory://")
    )
    limited.extensions["clock"] = clock
    with limited.app_context():
        first, first_secret = register_partner()
        second, second_secret = register_partner(organisation="住房和城乡建设委员会", name="房屋租赁备案系统")
        client = limited.test_client()
        one, two = bearer(client, first.client_id, first_secret), bearer(client, second.client_id, second_secret)
        body = {"identifier": "1.2.156.3005.2.X.Y.1.001.Z", "purpose": "核验"}
        codes = [call(client, one, VERIFY, body).status_code for _i in range(4)]
        assert codes == [400, 400, 400, 429]
        blocked = call(client, one, VERIFY, body)
        assert blocked.get_json()["error"] == "rate_limited" and "频繁" in blocked.get_json()["message"]
        assert call(client, two, VERIFY, body).status_code == 400  # another client has its own allowance
    with app.app_context():
        db.session.remove()


def test_the_openapi_document_is_valid_and_complete(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    validate_spec(document)
    assert document["openapi"].startswith("3.")
    flows = document["components"]["securitySchemes"]["partnerOAuth"]["flows"]["clientCredentials"]
    assert flows["tokenUrl"] == "http://localhost/oauth/token"
    assert set(flows["scopes"]) == {"certificates:verify", "certificates:read"}
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("partners."):
            path = rule.rule.replace("<code>", "{code}")
            routes.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    for path, methods in routes.items():
        assert path in document["paths"], path
        assert methods <= set(document["paths"][path]), (path, methods)


def _statements(fn):
    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    db.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        result = fn()
    finally:
        db.event.remove(db.engine, "before_cursor_execute", listener)
    return result, seen


@pytest.mark.skipif(
    not __import__("os").environ.get("REDIS_URL"),
    reason="tokens are remembered per process only with Redis, which announces revocations",
)
@pytest.mark.committed  # another instance (an app of its own, its own engine) disables the client
def test_a_remembered_token_costs_no_query_and_a_revocation_on_another_instance_stops_it_at_once(app, ctx, clock):
    certificate = issue()
    client_row, secret = register_partner(scopes=("certificates:verify",))
    client = app.test_client()
    token = bearer(client, client_row.client_id, secret)
    body = {"identifier": certificate.identifier, "purpose": "核验"}
    assert call(client, token, VERIFY, body).get_json()["status"] == "valid"  # read once, remembered
    answer, statements = _statements(lambda: call(client, token, VERIFY, body))
    assert answer.get_json()["status"] == "valid" and statements == []
    other = create_app(dict(app.config))  # another instance disables the client
    with other.app_context():
        from govservice.partners import services as partners

        partners.disable_client(client_row.client_id)  # as the command line does
        db.session.remove()
    # This instance hears of it by pub/sub (core/mirror.py): within milliseconds of the commit.
    answered, disabled_at = 2, time.monotonic()
    while (refused := call(client, token, VERIFY, body)).status_code == 200:
        answered += 1
        assert time.monotonic() - disabled_at < 5.0, "the revocation did not reach this instance"
    assert refused.status_code == 401 and refused.get_json()["error"] == "invalid_token"
    from govservice.certificates import verification

    verification.flush()
    assert db.session.execute(db.select(db.func.count(Verification.id))).scalar_one() == answered


# Committed: an app of its own with the limits on works on the test database.
@pytest.mark.committed
def test_limits_declared_on_a_view_still_apply(app, clock):
    """The token endpoint keeps its Flask-Limiter limit (PARTNER_TOKEN_RATE_LIMIT, per claimed client
    and address), though the limiter no longer runs its empty application-wide check per request."""
    limited = create_app(
        dict(app.config, RATELIMIT_ENABLED=True, PARTNER_TOKEN_RATE_LIMIT="2/minute", RATELIMIT_STORAGE_URI="memory://")
    )
    limited.extensions["clock"] = clock
    with limited.app_context():
        client_row, secret = register_partner()
        client = limited.test_client()
        form = {"grant_type": "client_credentials", "client_id": client_row.client_id, "client_secret": secret}
        codes = [client.post("/oauth/token", data=form).status_code for _i in range(3)]
        assert codes == [200, 200, 429]
        db.session.remove()
