"""The OAuth 2.0 authorization server for partner systems: client credentials, scopes, hashed
secrets and tokens, registration by an administrator (web and command line)."""

import pytest

from govservice.audit.models import AuditEntry
from govservice.core.extensions import db
from govservice.identity.models import StaffAssignment
from govservice.partners import services
from govservice.partners.models import PartnerClient, PartnerToken, secret_hash

from ..factories import bearer, call, person, register_partner, token_response


def test_client_credentials_issue_a_bearer_token_stored_as_a_hash(app, ctx, clock):
    partner, secret = register_partner(scopes=("certificates:verify",))
    client = app.test_client()
    answer = token_response(client, partner.client_id, secret)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    body = answer.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["scope"] == "certificates:verify"
    stored = db.session.execute(db.select(PartnerToken)).scalar_one()
    assert stored.token_hash == secret_hash(body["access_token"]) and body["access_token"] not in stored.token_hash
    assert db.session.get(PartnerClient, partner.id).secret_hash == secret_hash(secret)
    # form authentication works too
    posted = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": partner.client_id, "client_secret": secret},
    )
    assert posted.status_code == 200


@pytest.mark.parametrize(
    ("form", "auth", "status", "error"),
    [
        ({"grant_type": "client_credentials"}, ("wrong", "secret"), 401, "invalid_client"),
        ({"grant_type": "client_credentials"}, ("OWN", "not-the-secret"), 401, "invalid_client"),
        (
            {"grant_type": "password", "username": "a", "password": "b"},
            ("OWN", "SECRET"),
            400,
            "unsupported_grant_type",
        ),
        ({"grant_type": "client_credentials", "scope": "certificates:read"}, ("OWN", "SECRET"), 400, "invalid_scope"),
        ({"grant_type": "client_credentials", "scope": "admin"}, ("OWN", "SECRET"), 400, "invalid_scope"),
    ],
)
def test_bad_token_requests_are_refused_and_audited(app, ctx, clock, form, auth, status, error):
    partner, secret = register_partner(scopes=("certificates:verify",))
    client_id = partner.client_id if auth[0] == "OWN" else auth[0]
    answer = token_response(app.test_client(), client_id, secret if auth[1] == "SECRET" else auth[1], **form)
    assert answer.status_code == status and answer.get_json()["error"] == error
    assert db.session.execute(db.select(db.func.count(PartnerToken.id))).scalar_one() == 0
    refused = db.session.execute(db.select(AuditEntry).where(AuditEntry.action == "partner.token_refused")).scalar_one()
    assert refused.detail["error"] == error and refused.detail["client"] == client_id


def test_expired_revoked_and_disabled_tokens_stop_working(app, ctx, clock):
    partner, secret = register_partner()
    client = app.test_client()
    token = bearer(client, partner.client_id, secret)
    body = {"identifier": "1.2.156.3005.2.XSCJGJ001.11110105MB0000001C.0000000001.001.U", "purpose": "核验"}
    assert call(client, token, "/api/v1/certificates/verify", body).status_code == 200
    clock.advance(seconds=3601)
    expired = call(client, token, "/api/v1/certificates/verify", body)
    assert expired.status_code == 401 and expired.get_json()["error"] == "invalid_token"
    assert "Bearer" in expired.headers["WWW-Authenticate"]

    fresh = bearer(client, partner.client_id, secret)
    _client, new_secret = services.rotate_secret(partner.client_id)
    assert call(client, fresh, "/api/v1/certificates/verify", body).status_code == 401
    assert token_response(client, partner.client_id, secret).status_code == 401
    newest = bearer(client, partner.client_id, new_secret)
    services.disable_client(partner.client_id)
    assert call(client, newest, "/api/v1/certificates/verify", body).status_code == 401
    assert token_response(client, partner.client_id, new_secret).status_code == 401


def test_registration_rules(ctx):
    with pytest.raises(services.PartnerError, match="权限范围"):
        services.register_client("系统", "单位", [])
    with pytest.raises(services.PartnerError, match="权限范围"):
        services.register_client("系统", "单位", ["certificates:verify", "admin"])
    with pytest.raises(services.PartnerError, match="系统名称"):
        services.register_client(" ", "单位", ["certificates:verify"])
    with pytest.raises(services.PartnerError, match="系统管理员"):
        services.register_client("系统", "单位", ["certificates:verify"], actor=person("刘洋"))
    assert db.session.execute(db.select(db.func.count(PartnerClient.id))).scalar_one() == 1  # the demo partner


def test_the_command_line_registers_lists_rotates_and_disables(app, ctx):
    runner = app.test_cli_runner()
    made = runner.invoke(
        args=[
            "govservice",
            "partners",
            "register",
            "--name",
            "房屋租赁备案系统",
            "--organisation",
            "住房和城乡建设委员会",
            "--scope",
            "certificates:verify",
        ]
    )
    assert made.exit_code == 0, made.output
    client_id = made.output.split("client_id:")[1].split()[0]
    secret = made.output.split("client_secret:")[1].split()[0]
    assert db.session.execute(
        db.select(PartnerClient).where(PartnerClient.client_id == client_id)
    ).scalar_one().secret_hash == secret_hash(secret)
    assert secret not in str(db.session.execute(db.select(PartnerClient.secret_hash)).scalars().all())
    assert (
        f"{client_id}\t住房和城乡建设委员会\t房屋租赁备案系统\tcertificates:verify\tactive"
        in runner.invoke(args=["govservice", "partners", "list"]).output
    )
    bad = runner.invoke(
        args=[
            "govservice",
            "partners",
            "register",
            "--name",
            "x系统",
            "--organisation",
            "单位",
            "--scope",
            "everything",
        ]
    )
    assert bad.exit_code != 0
    rotated = runner.invoke(args=["govservice", "partners", "rotate-secret", client_id])
    assert rotated.exit_code == 0 and secret not in rotated.output
    assert runner.invoke(args=["govservice", "partners", "disable", client_id]).exit_code == 0
    again = runner.invoke(args=["govservice", "partners", "disable", client_id])
    assert again.exit_code != 0 and "已停用" in again.output


def test_the_demo_partner_can_be_used_from_the_printed_credentials(app, ctx, clock):
    shown = app.test_cli_runner().invoke(args=["govservice", "partners", "demo"]).output
    client_id = shown.split("client_id:")[1].split()[0]
    secret = shown.split("client_secret:")[1].split()[0]
    assert client_id == "demo-wsjkw" and "/oauth/token" in shown and "/api/v1/openapi.json" in shown
    assert bearer(app.test_client(), client_id, secret)


def test_an_administrator_registers_a_partner_on_the_web_and_sees_the_secret_once(app, ctx, client, login_as):
    admin = person("赵敏")
    db.session.add(StaffAssignment(person=admin, role="admin"))
    db.session.commit()
    login_as(client, "赵敏")
    page = client.get("/admin/partners/").get_data(as_text=True)
    assert "demo-wsjkw" in page and "登记合作方系统" in page
    refused = client.post("/admin/partners/", data={"name": "房屋租赁备案系统", "organisation": "住房和城乡建设委员会"})
    assert refused.status_code == 400 and "请选择权限范围" in refused.get_data(as_text=True)
    done = client.post(
        "/admin/partners/",
        data={"name": "房屋租赁备案系统", "organisation": "住房和城乡建设委员会", "scope": ["certificates:verify"]},
    ).get_data(as_text=True)
    secret = done.split('client_secret</dt><dd class="mono">')[1].split("<")[0]
    made = db.session.execute(db.select(PartnerClient).where(PartnerClient.name == "房屋租赁备案系统")).scalar_one()
    assert made.secret_hash == secret_hash(secret) and made.created_by_id == admin.id
    assert secret not in client.get("/admin/partners/").get_data(as_text=True)
    officer = app.test_client()
    login_as(officer, "刘洋")
    assert officer.get("/admin/partners/").status_code == 403
