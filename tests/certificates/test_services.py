"""Issuance on approval, verification statuses, revocation rights."""

from datetime import timedelta

import pytest

from govservice.cases import services as cases
from govservice.certificates import identifiers, lifecycle, services, signing, verification
from govservice.certificates.models import Certificate, Verification
from govservice.core.extensions import db
from govservice.review import services as review

from ..factories import in_review_case, person, refused_count, verifications_audited


def _approved():
    case = in_review_case()
    review.decide(case.id, person("刘洋"), case.version, approve=True, opinion="准予登记")
    return db.session.execute(db.select(Certificate).where(Certificate.case_id == case.id)).scalar_one()


def test_approval_issues_a_signed_certificate_and_completes_the_case(ctx, clock):
    certificate = _approved()
    assert certificate.case_id and db.session.get(cases.Case, certificate.case_id).state == "completed"
    parsed = identifiers.parse_identifier(certificate.identifier)
    assert parsed.issuer_uscc == "11110105MB0000001C" and parsed.version == 1
    data = certificate.data
    assert data["business_name"] == "北京市朝阳区张三便利店" and data["registered_on"] == "2026-11-23"
    from stdnum.cn import uscc

    assert uscc.is_valid(data["credit_code"]) and data["credit_code"].startswith("92110105")
    pdf = services.pdf_bytes(certificate)
    report = signing.validate_pdf(pdf, services.pdf_signer().trust_roots)
    assert report.intact and report.valid
    claims = ctx.extensions["token_keys"].verify(certificate.token)
    assert claims["cid"] == certificate.identifier and claims["sub"] == "张*"
    import hashlib

    assert claims["sha256"] == hashlib.sha256(pdf).hexdigest()


def test_two_certificates_get_distinct_serials(ctx, clock):
    first, second = _approved(), _approved()
    assert (
        identifiers.parse_identifier(first.identifier).serial != identifiers.parse_identifier(second.identifier).serial
    )
    assert (
        db.session.get(cases.Case, first.case_id).form_data != {}
        and first.data["credit_code"] != second.data["credit_code"]
    )


def test_each_status_is_answered_and_logged(ctx, clock):
    certificate = _approved()
    token = certificate.token
    forged_before = refused_count("bad_signature") + refused_count("malformed")
    assert verification.verify_token(token, channel="page", verifier="t")[0] == "valid"
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    assert verification.verify_token(tampered, channel="page", verifier="t") == ("forged", None)
    assert verification.verify_token("not-a-token", channel="page", verifier="t") == ("forged", None)
    clock.advance(days=1)
    lifecycle.revoke(certificate.id, person("刘洋"), "以欺骗手段取得登记")
    assert verification.verify_token(token, channel="page", verifier="t")[0] == "revoked"
    verification.flush()
    results = db.session.execute(db.select(Verification.result).order_by(Verification.id)).scalars().all()
    assert results == ["valid", "revoked"]  # forgeries name no holder to show a log to: counted only
    assert refused_count("bad_signature") + refused_count("malformed") == forged_before + 2
    assert verifications_audited() == 2


def test_an_expired_certificate_says_expired(ctx, clock):
    certificate = _approved()
    certificate.expires_at = clock.now() + timedelta(days=1)
    db.session.commit()
    clock.advance(days=2)
    assert verification.verify_token(certificate.token, channel="page", verifier="t")[0] == "expired"


def test_only_the_issuing_department_revokes_and_only_with_a_reason(ctx, clock):
    certificate = _approved()
    with pytest.raises(services.CertificateError, match="发证部门"):
        lifecycle.revoke(certificate.id, person("陈静"), "理由")
    with pytest.raises(services.CertificateError, match="请填写原因"):
        lifecycle.revoke(certificate.id, person("刘洋"), " ")
    assert db.session.get(Certificate, certificate.id).status == "valid"


def test_the_public_page_shows_masked_basics_and_forgery_plainly(app, ctx, clock):
    certificate = _approved()
    client = app.test_client()
    page = client.get(f"/v/{certificate.token}").get_data(as_text=True)
    assert "核验结果：有效" in page and "张*" in page and certificate.identifier in page
    business = certificate.data["business_name"]  # public registration facts (企业信息公示)
    assert business in page and certificate.data["credit_code"] in page
    for secret in ("张三", "110105198802150035", "示例路8号"):
        assert secret not in page.replace(business, "")
    forged = client.get("/v/eyJhbGciOiJub25lIn0.e30.")
    assert forged.status_code == 404 and "无效（伪造或被篡改）" in forged.get_data(as_text=True)


def test_the_jwks_publishes_public_keys_only(client):
    keys = client.get("/.well-known/jwks.json").get_json()["keys"]
    assert keys and all(k["alg"] == "ES256" and "kid" in k and "d" not in k for k in keys)


def test_generated_credit_codes_and_licence_numbers_are_well_formed(ctx):
    from stdnum.cn import uscc
    from stdnum.iso7064 import mod_11_10

    for serial in (1, 35, 36 * 36 + 18, 99999999):
        code = services._individual_business_credit_code(serial)
        assert uscc.is_valid(code) and code.startswith("92110105"), code
    number = services._licence_number("spjyxkz", 42, 2026)
    assert number == "JY1110105000042" + number[-1] and mod_11_10.is_valid(number[2:])
    assert services._licence_number("ggcswsxkz", 7, 2026) == "朝卫公证字〔2026〕第000007号"
