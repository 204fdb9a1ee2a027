"""The issuing department suspends, resumes, revokes and changes certificates; expiry is
honoured; the public page answers each at once, and each decision is recorded."""

import pytest

from govservice.audit.models import AuditEntry
from govservice.certificates import identifiers, lifecycle, services, signing
from govservice.certificates.models import Certificate, CertificateEvent
from govservice.core.extensions import db

from ..factories import issue, person


def _page(app, certificate):
    return app.test_client().get(f"/v/{certificate.token}").get_data(as_text=True)


def test_suspend_then_resume_shows_at_once(app, ctx, clock):
    certificate = issue()
    lifecycle.suspend(certificate.id, person("刘洋"), "经营场所无法联系，责令整改")
    page = _page(app, certificate)
    assert "核验结果：已暂停" in page and "暂停期间不具有效力" in page
    assert "经营场所无法联系" not in page  # the reason is for the holder, not the public
    clock.advance(days=3)
    lifecycle.resume(certificate.id, person("刘洋"), "整改完成")
    assert "核验结果：有效" in _page(app, certificate)
    events = [e.action for e in db.session.execute(db.select(CertificateEvent).order_by(CertificateEvent.id)).scalars()]
    assert events == ["issue", "suspend", "resume"]
    actions = set(db.session.execute(db.select(AuditEntry.action)).scalars())
    assert {"certificate.suspend", "certificate.resume"} <= actions


def test_a_suspended_certificate_may_still_be_revoked_and_revocation_is_final(app, ctx, clock):
    certificate = issue()
    officer = person("刘洋")
    lifecycle.suspend(certificate.id, officer, "涉嫌虚假登记，立案调查")
    lifecycle.revoke(certificate.id, officer, "以欺骗手段取得登记")
    assert "核验结果：已吊销" in _page(app, certificate)
    for act in (lifecycle.resume, lifecycle.suspend, lifecycle.revoke):
        with pytest.raises(services.CertificateError):
            act(certificate.id, officer, "再次操作")
    stored = db.session.get(Certificate, certificate.id)
    assert stored.status == "revoked" and stored.revoke_reason == "以欺骗手段取得登记"


@pytest.mark.parametrize("action", ["suspend", "revoke"])
def test_only_an_officer_of_the_issuing_department_decides_with_a_reason(ctx, clock, action):
    certificate = issue()
    decide = getattr(lifecycle, action)
    with pytest.raises(services.CertificateError, match="发证部门"):
        decide(certificate.id, person("陈静"), "理由")  # officer of another department
    with pytest.raises(services.CertificateError, match="发证部门"):
        decide(certificate.id, person("张三"), "理由")  # the holder
    with pytest.raises(services.CertificateError, match="请填写原因"):
        decide(certificate.id, person("刘洋"), "  ")
    with pytest.raises(services.CertificateError, match="500"):
        decide(certificate.id, person("刘洋"), "长" * 501)
    assert db.session.get(Certificate, certificate.id).status == "valid"
    assert db.session.execute(db.select(db.func.count(CertificateEvent.id))).scalar_one() == 1  # the issue only


def test_resuming_needs_a_suspension(ctx, clock):
    certificate = issue()
    with pytest.raises(services.CertificateError, match="只有已暂停"):
        lifecycle.resume(certificate.id, person("刘洋"), "无")


def test_a_change_issues_the_next_version_that_supersedes_the_old_one(app, ctx, clock):
    old = issue("spjyxkz")
    old_token, old_identifier = old.token, old.identifier
    clock.advance(days=30)
    new = lifecycle.supersede(old.id, person("刘洋"), {"premises": "北京市朝阳区示例路22号"}, "经营场所变更")
    before, after = identifiers.parse_identifier(old_identifier), identifiers.parse_identifier(new.identifier)
    assert (after.type_code, after.issuer_uscc, after.serial) == (before.type_code, before.issuer_uscc, before.serial)
    assert (before.version, after.version) == (1, 2) and after.check != "" and new.version == 2
    assert new.data["premises"] == "北京市朝阳区示例路22号" and new.data["business_name"] == old.data["business_name"]
    assert new.expires_at == db.session.get(Certificate, old.id).expires_at  # a change keeps the term
    assert new.supersedes_id == old.id
    report = signing.validate_pdf(services.pdf_bytes(new), services.pdf_signer().trust_roots)
    assert report.valid

    page = app.test_client().get(f"/v/{old_token}").get_data(as_text=True)
    assert "核验结果：已被新证替代" in page and new.identifier in page
    assert "核验结果：有效" in _page(app, new)
    # nothing more can be done to the superseded one
    with pytest.raises(services.CertificateError, match="已被新证替代"):
        lifecycle.revoke(old.id, person("刘洋"), "无")
    with pytest.raises(services.CertificateError, match="不能变更"):
        lifecycle.supersede(old.id, person("刘洋"), {"premises": "别处"}, "再次变更")


def test_a_change_that_changes_nothing_or_drops_a_required_field_is_refused(ctx, clock):
    certificate = issue("spjyxkz")
    officer = person("刘洋")
    with pytest.raises(services.CertificateError, match="没有任何项目发生变化"):
        lifecycle.supersede(certificate.id, officer, {"premises": certificate.data["premises"]}, "无变化")
    with pytest.raises(services.CertificateError, match="经营场所"):
        lifecycle.supersede(certificate.id, officer, {"premises": " "}, "删去场所")
    with pytest.raises(services.CertificateError, match="没有这些项目"):
        lifecycle.supersede(certificate.id, officer, {"colour": "红"}, "未知项目")
    assert db.session.execute(db.select(db.func.count(Certificate.id))).scalar_one() == 1
    assert db.session.get(Certificate, certificate.id).status == "valid"


def test_expiry_is_honoured_and_outranks_a_suspension(app, ctx, clock):
    permit = issue("jzz")  # valid for one year
    assert permit.expires_at == permit.issued_at.replace(year=permit.issued_at.year + 1)
    clock.advance(days=200)
    lifecycle.suspend(permit.id, person_of_gaj(), "签注逾期")
    assert "核验结果：已暂停" in _page(app, permit)
    clock.advance(days=200)
    assert "核验结果：已过期" in _page(app, permit)
    with pytest.raises(services.CertificateError, match="已过期"):
        lifecycle.supersede(permit.id, person_of_gaj(), {"residence_address": "别处"}, "变更")


def person_of_gaj():
    """An officer of 公安分局 (the residence permit's issuer)."""
    from govservice.catalog import services as catalog
    from govservice.identity.models import StaffAssignment

    officer = person("赵敏")
    department = catalog.department("gaj")
    if "officer" not in officer.roles(department.id):
        db.session.add(StaffAssignment(person=officer, role="officer", department=department))
        db.session.commit()
    return officer


def test_the_officer_desk_suspends_changes_and_shows_the_history(app, ctx, client, clock, login_as):
    certificate = issue("spjyxkz")
    login_as(client, "刘洋")
    desk = client.get("/review/certificates").get_data(as_text=True)
    assert certificate.identifier in desk and "暂停原因" in desk and "吊销原因" in desk

    refused = client.post(
        f"/review/certificates/{certificate.identifier}/suspend", data={"reason": ""}, follow_redirects=True
    )
    assert "请填写原因" in refused.get_data(as_text=True)
    assert db.session.get(Certificate, certificate.id).status == "valid"

    done = client.post(
        f"/review/certificates/{certificate.identifier}/suspend", data={"reason": "责令整改"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "已暂停" in done and "恢复理由" in done
    client.post(f"/review/certificates/{certificate.identifier}/resume", data={"reason": "整改完毕"})

    form = client.get(f"/review/certificates/{certificate.identifier}/change").get_data(as_text=True)
    assert 'name="field_premises"' in form and "北京市朝阳区示例路20号1层101" in form
    fields = {f"field_{k}": v for k, v in certificate.data.items()}
    missing_reason = client.post(
        f"/review/certificates/{certificate.identifier}/change",
        data=dict(fields, field_premises="北京市朝阳区示例路22号"),
    )
    assert missing_reason.status_code == 400 and 'aria-describedby="reason-error"' in missing_reason.get_data(
        as_text=True
    )
    changed = client.post(
        f"/review/certificates/{certificate.identifier}/change",
        data=dict(fields, field_premises="北京市朝阳区示例路22号", reason="经营场所变更"),
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "已换发新版本证照" in changed and "被新版本替代" in changed and "暂停" in changed


def test_another_departments_officer_cannot_open_the_change_form(app, ctx, client, clock, login_as):
    certificate = issue("spjyxkz")
    login_as(client, "陈静")
    assert client.get(f"/review/certificates/{certificate.identifier}/change").status_code == 403
    answer = client.post(
        f"/review/certificates/{certificate.identifier}/revoke",
        data={"reason": "越权", "confirmed": "1"},
        follow_redirects=True,
    )
    assert "发证部门" in answer.get_data(as_text=True)
    assert db.session.get(Certificate, certificate.id).status == "valid"
