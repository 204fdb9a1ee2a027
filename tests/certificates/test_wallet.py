"""我的证照: the wallet lists a holder's certificates (a business's for its representative and
agents), downloads the PDF, shows the QR, and lists every verification; the demo fills it."""

from datetime import timedelta

import pytest
from PIL import Image

from govservice.certificates import demo, services
from govservice.certificates.models import Certificate
from govservice.core.clock import BEIJING
from govservice.core.extensions import db
from govservice.identity.models import AgentGrant, Enterprise

from ..factories import DATA, person


def test_the_wallet_shows_a_qr_that_leads_to_the_verification_page(app, ctx, client, clock, login_as, tmp_path):
    zxingcpp = pytest.importorskip("zxingcpp")
    certificate = services.issue("yyzz", person("张三"), DATA["yyzz"])
    login_as(client, "张三")
    wallet = client.get("/wallet").get_data(as_text=True)
    qr_url = f"/wallet/{certificate.identifier}/qr.png"
    assert qr_url in wallet and 'alt="营业执照的核验二维码"' in wallet
    image = client.get(qr_url)
    assert image.status_code == 200 and image.mimetype == "image/png"
    (tmp_path / "qr.png").write_bytes(image.data)
    with Image.open(tmp_path / "qr.png") as picture:
        [decoded] = zxingcpp.read_barcodes(picture.convert("L"))
    assert decoded.text == f"http://localhost/v/{certificate.token}"
    # scanning it: the public page, logged, and then listed in the wallet
    assert "核验结果：有效" in app.test_client().get(decoded.text.replace("http://localhost", "")).get_data(
        as_text=True
    )
    assert "扫码核验" in client.get("/wallet").get_data(as_text=True)


def test_only_the_holder_downloads_or_sees_the_qr(app, ctx, clock, login_as):
    certificate = services.issue("yyzz", person("张三"), DATA["yyzz"])
    stranger = app.test_client()
    assert stranger.get(f"/wallet/{certificate.identifier}.pdf").status_code == 302  # to the login page
    login_as(stranger, "李娜")
    assert stranger.get(f"/wallet/{certificate.identifier}.pdf").status_code == 403
    assert stranger.get(f"/wallet/{certificate.identifier}/qr.png").status_code == 403
    assert certificate.identifier not in stranger.get("/wallet").get_data(as_text=True)
    assert stranger.get("/wallet/1.2.156.3005.2.NOPE/qr.png").status_code == 404


def test_a_business_certificate_is_in_its_representatives_and_agents_wallets(ctx, clock):
    wang, qian, zhang = person("王五"), person("钱七"), person("张三")
    enterprise = Enterprise(
        uscc="91110105MA01TEXT3Q", name="北京朝阳测试餐饮有限公司", status="active", legal_representative=wang
    )
    db.session.add(enterprise)
    now = clock.now()
    grant = AgentGrant(
        enterprise=enterprise,
        agent=qian,
        granted_by=wang,
        all_items=True,
        item_codes=[],
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=30),
    )
    db.session.add(grant)
    db.session.commit()
    certificate = services.issue("spjyxkz", qian, DATA["spjyxkz"], enterprise=enterprise)
    assert certificate.holder_label == "北京朝阳测试餐饮有限公司"
    assert ctx.extensions["token_keys"].verify(certificate.token)["sub"] == "北京朝阳测试餐饮有限公司"
    assert services.wallet(wang) == [certificate] and services.wallet(qian) == [certificate]
    assert services.wallet(zhang) == []
    assert services.usable_as_material(certificate, wang) == (True, "")
    grant.revoked_at = now
    db.session.commit()
    assert services.wallet(qian) == [] and not services.may_hold(qian, certificate)
    with pytest.raises(services.CertificateError, match="个人"):
        services.issue("yyzz", wang, DATA["yyzz"], enterprise=enterprise)


def test_the_demo_fills_the_wallets_once(app, ctx):
    lines = demo.load()
    assert len(lines) == 4
    assert [type_of(c) for c in services.wallet(person("张三"))] == ["就业创业证"]
    assert [type_of(c) for c in services.wallet(person("李娜"))] == ["居住证"]
    assert sorted(type_of(c) for c in services.wallet(person("王五"))) == ["公共场所卫生许可证", "食品经营许可证"]
    assert all(services.status_of(c) == "valid" for c in db.session.execute(db.select(Certificate)).scalars())
    again = app.test_cli_runner().invoke(args=["govservice", "demo"])
    assert again.exit_code == 0 and "certificate:" not in again.output
    assert db.session.execute(db.select(db.func.count(Certificate.id))).scalar_one() == 4
    listed = app.test_cli_runner().invoke(args=["govservice", "certificates", "list"]).output
    assert listed.count("\tvalid\t") == 4 and "就业创业证" in listed


def type_of(certificate):
    return services.certificate_type(certificate.type_code).name


def test_a_revoked_or_expired_certificate_offers_no_qr_and_the_wallet_says_why(app, ctx, client, clock, login_as):
    from govservice.certificates import lifecycle

    from ..factories import person as staff

    revoked = services.issue("yyzz", person("张三"), DATA["yyzz"])
    expiring = services.issue("spjyxkz", person("张三"), DATA["spjyxkz"])
    login_as(client, "张三")
    wallet = client.get("/wallet").get_data(as_text=True)
    assert wallet.count("出示此二维码，对方扫码即可核验") == 2

    lifecycle.revoke(revoked.id, staff("刘洋"), "以欺骗手段取得登记")
    wallet = client.get("/wallet").get_data(as_text=True)
    card = wallet[wallet.index(f'id="c-{revoked.id}"') :]
    revoked_card = card[: card.index("</article>")]
    assert "出示此二维码" not in revoked_card and f"/wallet/{revoked.identifier}/qr.png" not in revoked_card
    assert "本证照已被发证机关吊销，核验二维码已停用" in revoked_card
    assert client.get(f"/wallet/{revoked.identifier}/qr.png").status_code == 410
    assert wallet.count("出示此二维码，对方扫码即可核验") == 1  # the other one still may be shown

    clock.advance(days=5 * 366 + 1)  # past the food licence's five years
    wallet = client.get("/wallet").get_data(as_text=True)
    assert "出示此二维码" not in wallet
    day = db.session.get(Certificate, expiring.id).expires_at.astimezone(BEIJING).strftime("%Y-%m-%d")
    assert f"本证照已于{day}过期，核验二维码已停用" in wallet
    assert client.get(f"/wallet/{expiring.identifier}/qr.png").status_code == 410
