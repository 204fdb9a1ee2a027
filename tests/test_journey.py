"""The whole journey through the web, as the people involved would walk it."""

import re

from govservice.certificates import services as certificate_services
from govservice.certificates import signing
from govservice.certificates.models import Certificate
from govservice.core.extensions import db

from .conftest import pdf_upload

FORM = {
    "business_name": "北京市朝阳区张三便利店",
    "composition": "个人经营",
    "address": "北京市朝阳区示例路8号",
    "scope": "日用百货零售；预包装食品销售",
    "capital": "5",
    "phone": "13800000001",
}


def _version(page: bytes) -> str:
    return re.search(rb'name="version" value="(\d+)"', page).group(1).decode()


def test_citizen_applies_clerk_accepts_officer_approves_certificate_verifies(app, client, login, clock):
    # 1. a citizen signs in through the provider and reads the guide
    assert login(client, "张三").status_code == 302
    guide = client.get("/items/scjgj-gtgsh-sldj").get_data(as_text=True)
    assert "设定依据" in guide and "经营场所使用证明" in guide

    # 2. the form is pre-filled from the login; submit with one material
    form_page = client.get("/apply/scjgj-gtgsh-sldj").get_data(as_text=True)
    assert 'value="张三"' in form_page and 'value="110105198802150035"' in form_page
    key = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"', form_page).group(1)
    submitted = client.post(
        "/apply/scjgj-gtgsh-sldj",
        data=dict(FORM, idempotency_key=key, material_premises=pdf_upload()),
        content_type="multipart/form-data",
    )
    assert submitted.status_code == 302
    case_url = submitted.headers["Location"]
    number = case_url.split("?")[0].rsplit("/", 1)[-1]
    assert re.fullmatch(r"11010520261123\d{6}", number)
    page = client.get(case_url).get_data(as_text=True)
    assert "待受理" in page and number in page

    # 3. the window clerk accepts it; the deadline is 3 working days on: Thursday 26 November
    clerk = app.test_client()
    login(clerk, "赵敏")
    assert number in clerk.get("/window/").get_data(as_text=True)
    accepted = clerk.post(
        f"/window/cases/{number}/accept", data={"version": _version(clerk.get(f"/window/cases/{number}").data)}
    )
    assert accepted.status_code == 302
    assert "2026-11-26" in client.get(case_url).get_data(as_text=True)

    # 4. the officer of 市场监督管理局 claims and approves it
    officer = app.test_client()
    login(officer, "刘洋")
    assert number in officer.get("/review/").get_data(as_text=True)
    officer.post(
        f"/review/cases/{number}/claim", data={"version": _version(officer.get(f"/review/cases/{number}").data)}
    )
    decided = officer.post(
        f"/review/cases/{number}/decide",
        data={
            "version": _version(officer.get(f"/review/cases/{number}").data),
            "decision": "approve",
            "opinion": "材料齐全，符合法定形式，准予登记。",
        },
    )
    assert decided.status_code == 302

    # 5. the approval issued the certificate and completed the case
    page = client.get(case_url).get_data(as_text=True)
    assert "已办结" in page and "电子证照" in page
    wallet = client.get("/wallet").get_data(as_text=True)
    assert "营业执照" in wallet and "有效" in wallet
    identifier = re.search(r"1\.2\.156\.3005\.2\.[0-9A-Z.*]+", wallet).group(0)
    pdf = client.get(f"/wallet/{identifier}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    with app.app_context():
        report = signing.validate_pdf(pdf.data, certificate_services.pdf_signer().trust_roots)
        assert report.intact and report.valid
        token = db.session.execute(db.select(Certificate.token)).scalar_one()

    # 6. the public verification page: valid, masked basics only
    public = app.test_client()
    verified = public.get(f"/v/{token}").get_data(as_text=True)
    assert "有效" in verified and "张*" in verified
    # the registered business name is public (企业信息公示); the operator's own name stays masked
    assert "110105198802150035" not in verified and "张三" not in verified.replace("北京市朝阳区张三便利店", "")

    # 7. the officer revokes it; verification says so at once
    officer.post(f"/review/certificates/{identifier}/revoke", data={"reason": "以欺骗手段取得登记", "confirmed": "1"})
    assert "已吊销" in public.get(f"/v/{token}").get_data(as_text=True)
    # the holder sees both checks in the wallet
    assert client.get("/wallet").get_data(as_text=True).count("公开核验页面") == 2
