"""电子证照 in a real browser: the holder's wallet shows a QR that, scanned, opens the public
verification page; a partner department's system checks the certificate through the API and
reads it with the holder's one-time consent; each use then appears in the holder's wallet.

Uses the demo data as `make run` loads it: 张三 holds a 就业创业证, and the demo partner system
(卫生健康委员会, client `demo-wsjkw`) has both scopes; its secret is in the instance folder.
"""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from govservice.core.keys import instance_secret

from .test_journey import PHONE, assert_fits_phone, sign_in, verdict

PARTNER = "卫生健康委员会（公共场所卫生许可审批系统（演示））"


def _decode_qr(png: bytes, tmp_path) -> str:
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    path = tmp_path / "wallet-qr.png"
    path.write_bytes(png)
    with Image.open(path) as image:
        [code] = zxingcpp.read_barcodes(image.convert("L"))
    return code.text


def _partner_token(base_url, instance_dir) -> str:
    secret = instance_secret(instance_dir, "demo_partner_secret", "DEMO_PARTNER_SECRET")
    answer = requests.post(
        f"{base_url}/oauth/token", data={"grant_type": "client_credentials"}, auth=("demo-wsjkw", secret), timeout=10
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def test_scan_verify_share_and_see_every_use_in_the_wallet(new_context, base_url, instance_dir, screenshot, tmp_path):
    holder = new_context().new_page()
    sign_in(holder, "张三")
    holder.get_by_role("navigation", name="主导航").get_by_role("link", name="我的证照").click()
    card = holder.get_by_role("article").filter(has=holder.get_by_role("heading", name="就业创业证"))
    expect(card).to_have_count(1)
    expect(card.get_by_role("heading", name="就业创业证")).to_contain_text("有效")
    expect(card).to_contain_text("暂无用证记录。")
    identifier = re.search(r"1\.2\.156\.3005\.2\.[0-9A-Z.]+", card.inner_text()).group(0)

    # 1. the QR shown in the wallet, scanned: anybody who scans it opens the public page
    qr = card.get_by_role("img", name="就业创业证的核验二维码")
    expect(qr).to_be_visible()
    png = holder.context.request.get(qr.get_attribute("src"))
    assert png.ok and png.headers["content-type"] == "image/png"
    scanned = _decode_qr(png.body(), tmp_path)
    assert scanned.startswith(f"{base_url}/v/")
    passer_by = new_context().new_page()
    passer_by.goto(scanned)
    expect(verdict(passer_by)).to_have_text("核验结果：有效")
    main = passer_by.get_by_role("main")
    expect(main).to_contain_text("就业创业证")
    expect(main).to_contain_text("张*")
    expect(main).not_to_contain_text("张三")
    assert "110105198802150035" not in passer_by.content()
    screenshot(passer_by, "21-scanned-qr-verify-page")

    # 2. a partner department's system checks it through the API
    token = _partner_token(base_url, instance_dir)
    checked = requests.post(
        f"{base_url}/api/v1/certificates/verify",
        timeout=10,
        headers={"Authorization": f"Bearer {token}"},
        json={"identifier": identifier, "purpose": "核验就业创业情况（创业补贴审核）"},
    )
    assert checked.status_code == 200 and checked.json()["status"] == "valid", checked.text
    assert checked.json()["certificate"]["holder"] == "张*"

    holder.reload()
    uses = card.get_by_role("table").first
    expect(uses).to_contain_text(PARTNER)
    expect(uses).to_contain_text("核验就业创业情况（创业补贴审核）")
    expect(uses).to_contain_text("系统核验")
    expect(uses).to_contain_text("扫码核验")

    # 3. the holder grants the partner one read, and the partner reads the full content once
    card.get_by_text("授权用证单位读取本证照全部内容").click()
    card.get_by_label("用证单位").select_option(label=PARTNER)
    card.get_by_label("用证目的").fill("创业补贴审核")
    card.get_by_role("button", name="生成授权码").click()
    expect(holder.get_by_role("main").get_by_role("status").first).to_contain_text("授权已生成")
    code = card.locator("strong.code").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
    screenshot(holder, "22-wallet-consent-code")

    read = requests.post(f"{base_url}/api/v1/consents/{code}", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert read.status_code == 200, read.text
    fields = {f["label"]: f["value"] for f in read.json()["certificate"]["fields"]}
    assert fields["姓名"] == "张三" and fields["就业创业情况"] == "自主创业（个体经营）"
    again = requests.post(
        f"{base_url}/api/v1/consents/{code}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert again.status_code == 410 and again.json()["error"] == "consent_used"

    holder.reload()
    expect(card).to_contain_text("授权读取全文")
    expect(card).to_contain_text("已使用")
    expect(card).not_to_contain_text(code)
    screenshot(holder, "23-wallet-uses")

    # the wallet fits a phone
    phone = new_context(storage_state=holder.context.storage_state(), **PHONE).new_page()
    phone.goto("/wallet")
    expect(phone.get_by_role("heading", name="我的证照", level=1)).to_be_visible()
    screenshot(phone, "24-phone-wallet")
    assert_fits_phone(phone, "the wallet")
