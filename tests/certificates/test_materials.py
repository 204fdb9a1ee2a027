"""免提交: a held certificate named in an application is checked at acceptance; an unusable one
(revoked, suspended, superseded, expired, someone else's, unknown) is refused with a clear
reason, and every check is logged where the holder sees it."""

import pytest

from govservice.certificates import lifecycle, services
from govservice.certificates.models import Certificate, Verification
from govservice.core.extensions import db

from ..factories import issue, person


def test_a_valid_certificate_of_the_applicant_is_usable(ctx, clock):
    certificate = issue()
    assert services.usable_as_material(certificate) == (True, "")
    assert services.usable_as_material(certificate, person("张三")) == (True, "")
    assert services.usable_certificates(person("张三"), ["yyzz"]) == [certificate]
    checks = services.check_held_materials([certificate.identifier], person("张三"), case_number="11010520261123000001")
    assert [(c.ok, c.status) for c in checks] == [(True, "valid")] and services.refusal_message(checks) is None
    logged = db.session.execute(db.select(Verification)).scalar_one()
    assert (logged.channel, logged.action, logged.result) == ("case", "material", "valid")
    assert logged.verifier == "受理审查（办件 11010520261123000001）" and logged.purpose == "免提交材料核验"


@pytest.mark.parametrize(
    ("decision", "label"),
    [
        ("revoke", "已吊销"),
        ("suspend", "已暂停"),
        ("supersede", "已被新证替代"),
        ("expire", "已过期"),
    ],
)
def test_an_unusable_certificate_is_refused_with_its_status(ctx, clock, decision, label):
    certificate = issue("jzz")
    officer = person("刘洋")
    if decision == "expire":
        clock.advance(days=400)
    else:
        from govservice.catalog import services as catalog
        from govservice.identity.models import StaffAssignment

        db.session.add(StaffAssignment(person=officer, role="officer", department=catalog.department("gaj")))
        db.session.commit()
        if decision == "supersede":
            lifecycle.supersede(certificate.id, officer, {"residence_address": "北京市朝阳区别处1号"}, "居住地变更")
        else:
            getattr(lifecycle, decision)(certificate.id, officer, "理由")
    ok, reason = services.usable_as_material(certificate, person("李娜"))
    assert not ok and label in reason and "不能作为免提交材料" in reason and certificate.identifier in reason
    checks = services.check_held_materials([certificate.identifier], person("李娜"))
    assert services.refusal_message(checks) == reason
    assert db.session.execute(db.select(Verification.result)).scalar_one() == services.status_of(certificate)
    assert services.usable_certificates(person("李娜")) == (
        [] if decision != "supersede" else [_successor(certificate)]
    )


def _successor(certificate):
    """The certificate that superseded this one."""
    return db.session.execute(db.select(Certificate).where(Certificate.supersedes_id == certificate.id)).scalar_one()


def test_someone_elses_or_an_unknown_certificate_is_refused(ctx, clock):
    certificate = issue()
    ok, reason = services.usable_as_material(certificate, person("李娜"))
    assert not ok and "不属于申请人" in reason
    checks = services.check_held_materials([certificate.identifier, "1.2.156.3005.2.X.Y.1.001.Z"], person("李娜"))
    assert [(c.ok, c.status) for c in checks] == [(False, "valid"), (False, "not_found")]
    message = services.refusal_message(checks)
    assert "不属于申请人" in message and "未找到证照" in message
    assert "李娜" not in message and "张三" not in message
    logged = db.session.execute(db.select(Verification)).scalar_one()
    assert (logged.result, logged.reason) == ("refused", "not_holder")
