"""授权用证: the holder grants one partner one read of one certificate, for a purpose, until a
time; the code works once, for that partner only; withdrawn or expired grants refuse."""

import base64
import re
from datetime import timedelta

import pytest

from govservice.certificates import consent, lifecycle, services, signing
from govservice.certificates.models import ConsentGrant, Verification
from govservice.core.extensions import db

from ..factories import bearer, call, issue, person, register_partner, run_together


@pytest.fixture
def setting(app, ctx, clock):
    certificate = issue("spjyxkz")
    partner, secret = register_partner()
    client = app.test_client()
    token = bearer(client, partner.client_id, secret)
    return certificate, partner, client, token


def _grant(certificate, partner, clock, days=7, purpose="办理公共场所卫生许可"):
    return consent.grant(
        certificate.identifier, person("王五"), partner.id, purpose, clock.now() + timedelta(days=days)
    )


def test_a_grant_is_read_once_in_full_and_the_holder_sees_it(app, ctx, clock, setting, login_as):
    certificate, partner, client, token = setting
    grant = _grant(certificate, partner, clock)
    code = consent.display_code(grant.code)
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", code)

    first = call(client, token, f"/api/v1/consents/{code}")
    assert first.status_code == 200, first.get_data(as_text=True)
    body = first.get_json()
    assert body["status"] == "valid" and body["certificate"]["holder"] == "王五"
    fields = {f["name"]: f["value"] for f in body["certificate"]["fields"]}
    assert fields["legal_representative"] == "王五" and fields["licence_number"] == "JY21101050098765"
    assert body["consent"]["purpose"] == "办理公共场所卫生许可"
    pdf = base64.b64decode(body["pdf_base64"])
    assert signing.validate_pdf(pdf, services.pdf_signer().trust_roots).valid

    again = call(client, token, f"/api/v1/consents/{grant.code}")
    assert again.status_code == 410 and again.get_json()["error"] == "consent_used"
    assert "只能使用一次" in again.get_json()["message"]

    holder = app.test_client()
    login_as(holder, "王五")
    wallet = holder.get("/wallet").get_data(as_text=True)
    assert "卫生健康委员会（公共场所卫生许可审批系统）" in wallet and "授权读取全文" in wallet
    assert "办理公共场所卫生许可" in wallet and "已使用" in wallet and "已拒绝" in wallet
    assert code not in wallet  # a used code is no longer shown
    reads = db.session.execute(
        db.select(Verification.result, Verification.reason)
        .where(Verification.action == "read")
        .order_by(Verification.id)
    ).all()
    assert reads == [("valid", None), ("refused", "consent_used")]


def test_an_expired_grant_refuses(ctx, clock, setting):
    certificate, partner, client, token = setting
    grant = consent.grant(
        certificate.identifier, person("王五"), partner.id, "办理许可", clock.now() + timedelta(minutes=30)
    )
    clock.advance(minutes=30, seconds=1)  # the partner's access token (an hour) is still good
    answer = call(client, token, f"/api/v1/consents/{grant.code}")
    assert answer.status_code == 410 and answer.get_json()["error"] == "consent_expired"
    assert db.session.get(ConsentGrant, grant.id).used_at is None


def test_a_withdrawn_grant_refuses_and_a_used_one_cannot_be_withdrawn(ctx, clock, setting):
    certificate, partner, client, token = setting
    grant = _grant(certificate, partner, clock)
    consent.withdraw(grant.id, person("王五"))
    answer = call(client, token, f"/api/v1/consents/{grant.code}")
    assert answer.status_code == 410 and answer.get_json()["error"] == "consent_withdrawn"

    used = _grant(certificate, partner, clock)
    assert call(client, token, f"/api/v1/consents/{used.code}").status_code == 200
    with pytest.raises(services.CertificateError, match="已使用"):
        consent.withdraw(used.id, person("王五"))
    with pytest.raises(services.CertificateError, match="授权不存在"):
        consent.withdraw(used.id, person("张三"))


def test_another_partners_code_or_an_unknown_one_leaks_nothing(app, ctx, clock, setting):
    certificate, partner, client, token = setting
    other, other_secret = register_partner(organisation="住房和城乡建设委员会", name="房屋租赁备案系统")
    other_token = bearer(client, other.client_id, other_secret)
    grant = _grant(certificate, partner, clock)
    stolen = call(client, other_token, f"/api/v1/consents/{grant.code}")
    unknown = call(client, other_token, "/api/v1/consents/ABCD-EFGH-JKMN")
    garbage = call(client, other_token, "/api/v1/consents/%3Cscript%3E")
    assert stolen.status_code == unknown.status_code == garbage.status_code == 404
    assert stolen.get_json() == unknown.get_json() == garbage.get_json()
    assert "王五" not in stolen.get_data(as_text=True)
    # the grant is untouched and still works for its partner; the holder sees the attempt
    assert db.session.get(ConsentGrant, grant.id).used_at is None
    assert call(client, token, f"/api/v1/consents/{grant.code.lower()}").status_code == 200
    attempt = db.session.execute(db.select(Verification).where(Verification.reason == "wrong_partner")).scalar_one()
    assert attempt.verifier == "住房和城乡建设委员会（房屋租赁备案系统）" and attempt.result == "refused"


def test_a_partner_without_the_read_scope_cannot_use_a_code(ctx, clock, setting):
    certificate, partner, client, _token = setting
    verifier, secret = register_partner(scopes=("certificates:verify",), name="只读核验系统")
    token = bearer(client, verifier.client_id, secret)
    grant = _grant(certificate, partner, clock)
    answer = call(client, token, f"/api/v1/consents/{grant.code}")
    assert answer.status_code == 403 and answer.get_json()["error"] == "insufficient_scope"
    assert "certificates:read" in answer.get_json()["message"]
    assert db.session.get(ConsentGrant, grant.id).used_at is None
    # and it is not offered to holders as a partner to grant to
    assert verifier not in consent.partners() and partner in consent.partners()


@pytest.mark.parametrize(
    ("who", "partner_id", "purpose", "days", "message"),
    [
        ("张三", "own", "办理许可", 7, "不是您持有的证照"),
        ("王五", "none", "办理许可", 7, "请选择用证单位"),
        ("王五", "verify_only", "办理许可", 7, "请选择用证单位"),
        ("王五", "own", "办", 7, "用证目的"),
        ("王五", "own", "办理许可", -1, "截止时间应晚于现在"),
        ("王五", "own", "办理许可", 91, "最长90天"),
    ],
)
def test_bad_grants_are_refused_and_change_nothing(ctx, clock, setting, who, partner_id, purpose, days, message):
    certificate, partner, _client, _token = setting
    verify_only, _secret = register_partner(scopes=("certificates:verify",), name="只读核验系统")
    chosen = {"own": partner.id, "none": "", "verify_only": verify_only.id}[partner_id]
    with pytest.raises(services.CertificateError, match=message):
        consent.grant(certificate.identifier, person(who), chosen, purpose, clock.now() + timedelta(days=days))
    assert db.session.execute(db.select(db.func.count(ConsentGrant.id))).scalar_one() == 0


def test_no_grant_for_a_certificate_that_is_not_valid(ctx, clock, setting):
    certificate, partner, _client, _token = setting
    lifecycle.suspend(certificate.id, person("刘洋"), "责令整改")
    with pytest.raises(services.CertificateError, match="已暂停"):
        _grant(certificate, partner, clock)


def test_the_wallet_form_grants_and_withdraws(app, ctx, clock, setting, login_as):
    certificate, partner, _client, _token = setting
    holder = app.test_client()
    login_as(holder, "王五")
    page = holder.get("/wallet").get_data(as_text=True)
    assert "授权用证" in page and partner.label in page and 'type="datetime-local"' in page

    bad = holder.post(
        f"/wallet/{certificate.identifier}/consents",
        data={"partner": partner.id, "purpose": "", "until": "2026-11-30T18:00"},
    )
    text = bad.get_data(as_text=True)
    assert (
        bad.status_code == 400
        and f'aria-describedby="purpose-{certificate.id}-help purpose-{certificate.id}-error"' in text
    )
    assert "请填写用证目的" in text
    assert db.session.execute(db.select(db.func.count(ConsentGrant.id))).scalar_one() == 0

    done = holder.post(
        f"/wallet/{certificate.identifier}/consents",
        data={"partner": partner.id, "purpose": "办理公共场所卫生许可", "until": "2026-11-30T18:00"},
        follow_redirects=True,
    ).get_data(as_text=True)
    grant = db.session.execute(db.select(ConsentGrant)).scalar_one()
    assert consent.display_code(grant.code) in done and f"/api/v1/consents/{grant.code}" in done
    assert grant.expires_at.isoformat() == "2026-11-30T10:00:00+00:00"  # 18:00 Beijing
    withdrawn = holder.post(f"/wallet/consents/{grant.id}/withdraw", follow_redirects=True).get_data(as_text=True)
    assert "授权已撤回" in withdrawn and "已撤回" in withdrawn and consent.display_code(grant.code) not in withdrawn


def test_opening_a_consent_link_in_a_browser_uses_nothing(ctx, clock, setting):
    certificate, partner, client, _token = setting
    grant = _grant(certificate, partner, clock)
    answer = client.get(consent.consent_link(grant.code).replace("http://localhost", ""))
    assert answer.status_code == 405 and answer.headers["Allow"] == "POST"
    assert db.session.get(ConsentGrant, grant.id).used_at is None


@pytest.mark.committed  # threads on connections of their own, each committing: a real race
def test_two_partners_requests_racing_for_one_code_read_it_once(app, ctx, clock, setting):
    """The grant is used up by a conditional UPDATE: of two simultaneous reads exactly one wins."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers: checked on PostgreSQL (SQLite serialises whole transactions)")
    import threading

    certificate, partner, _client, _token = setting
    grant = _grant(certificate, partner, clock)
    code, partner_id = grant.code, partner.id
    barrier, outcomes = threading.Barrier(2), []

    def read(_i):
        with app.app_context():
            from govservice.partners.models import PartnerClient

            client = db.session.get(PartnerClient, partner_id)
            barrier.wait()
            try:
                consent.redeem(code, client)
                outcomes.append("read")
            except consent.ConsentRefused as exc:
                outcomes.append(exc.error)
            finally:
                db.session.remove()

    run_together(2, read, timeout=30)
    assert sorted(outcomes) == ["consent_used", "read"]
    assert (
        db.session.execute(db.select(db.func.count(Verification.id)).where(Verification.result == "valid")).scalar_one()
        == 1
    )


def test_sharing_someone_elses_certificate_through_the_form_is_refused_plainly(app, ctx, clock, setting, login_as):
    certificate, partner, _client, _token = setting
    stranger = app.test_client()
    login_as(stranger, "张三")
    answer = stranger.post(
        f"/wallet/{certificate.identifier}/consents",
        follow_redirects=True,
        data={"partner": partner.id, "purpose": "办理许可", "until": "2026-11-30T18:00"},
    )
    assert "不是您持有的证照" in answer.get_data(as_text=True)
    assert db.session.execute(db.select(db.func.count(ConsentGrant.id))).scalar_one() == 0
