"""The printed QR: a short signed reference that a phone reads from a 150-dpi image of the page,
that verifies offline against the published JWKS alone, and leads to the public page; an altered
or foreign reference is refused."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from PIL import Image

from govservice.certificates import lifecycle, services, shortref

from ..factories import issue
from ..factories import person as staff

needs_pdftoppm = pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="pdftoppm not found: install poppler-utils (apt-get install poppler-utils)"
)


def _scan_printed_page(tmp_path, pdf: bytes) -> list[str]:
    """What a phone reads off the printed page: poppler renders it at 150 dpi, zxing-cpp decodes."""
    import zxingcpp

    (tmp_path / "certificate.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", "-singlefile", str(tmp_path / "certificate.pdf"), str(tmp_path / "page")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    with Image.open(tmp_path / "page.png") as image:
        return [r.text for r in zxingcpp.read_barcodes(image.convert("L")) if r.format == zxingcpp.BarcodeFormat.QRCode]


@needs_pdftoppm
def test_the_printed_qr_is_short_scans_from_150_dpi_and_verifies_offline(app, ctx, clock, tmp_path):
    certificate = issue("spjyxkz")
    [text] = _scan_printed_page(tmp_path, services.pdf_bytes(certificate))
    prefix = "http://localhost/r/"
    assert text.startswith(prefix)
    reference = text[len(prefix) :]
    assert len(reference) <= 120 and len(text) <= 140, (len(reference), text)

    # offline: nothing but the published key document
    jwks = app.test_client().get("/.well-known/jwks.json").get_json()
    ref = shortref.verify_with_jwks(reference, jwks)
    assert (ref.type_code, ref.kid) == ("spjyxkz", services.key_store().active_kid)
    assert shortref.identifier_of(ref) == certificate.identifier

    # online: the page behind the QR, then the issuer's revocation shows at once
    page = app.test_client().get(text.replace("http://localhost", ""))
    assert page.status_code == 200 and "核验结果：有效" in page.get_data(as_text=True)
    lifecycle.revoke(certificate.id, staff("刘洋"), "以欺骗手段取得许可")
    assert "已吊销" in app.test_client().get(f"/r/{reference}").get_data(as_text=True)


def test_an_old_print_verifies_after_key_rotation(app, ctx, clock):
    store = services.key_store()
    before = shortref.make(store, "yyzz", "scjgj", 12345, 1)
    store.rotate()
    after = shortref.make(store, "yyzz", "scjgj", 12345, 1)
    jwks = app.test_client().get("/.well-known/jwks.json").get_json()
    assert shortref.verify_with_jwks(before, jwks).kid != shortref.verify_with_jwks(after, jwks).kid
    assert shortref.verify_with_jwks(before, jwks).serial == 12345


def test_an_altered_or_foreign_reference_is_refused(app, ctx, clock, tmp_path):
    store = services.key_store()
    good = shortref.make(store, "yyzz", "scjgj", 77, 1)
    jwks = store.public_jwks()
    body, signature = good.rsplit(".", 1)
    other_serial = body.replace(".25.", ".26.")  # serial 77 is 25 in base 36: the number changed, not the signature
    assert other_serial != body
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    for altered, reason in (
        (f"{other_serial}.{signature}", "bad_signature"),
        (f"{body}.{flipped}", "bad_signature"),
        ("yyzz.scjgj.25.1", "malformed"),
        ("<script>", "malformed"),
        ("", "malformed"),
    ):
        with pytest.raises(shortref.ReferenceError) as refused:
            shortref.verify_with_jwks(altered, jwks)
        assert refused.value.reason == reason
    # a key the platform never published (another issuer's, or a forger's)
    from govservice.certificates.tokens import TokenKeyStore

    foreign = shortref.make(TokenKeyStore(tmp_path / "keys"), "yyzz", "scjgj", 77, 1)
    with pytest.raises(shortref.ReferenceError):
        shortref.verify_with_jwks(foreign, jwks)

    client = app.test_client()
    for path in (f"/r/{other_serial}.{signature}", f"/r/{foreign}", "/r/nonsense"):
        page = client.get(path)
        assert page.status_code == 404 and "无效（伪造或被篡改）" in page.get_data(as_text=True)
    # signed here but naming no certificate issued here (e.g. a print of a deleted test record)
    assert client.get(f"/r/{good}").status_code == 404


def test_the_public_page_shows_a_business_s_registration_facts_and_masks_a_person(app, ctx, clock):
    client = app.test_client()
    business = issue("spjyxkz")
    page = client.get(f"/v/{business.token}").get_data(as_text=True)
    from ..factories import DATA

    for fact in ("北京朝阳示例餐饮有限公司", "91110105MA01EFGH30", "王五", "JY21101050098765"):
        assert fact in page, fact
    assert "热食类食品制售" not in page  # the rest of the licence stays for the holder's consent

    resident = issue("jzz")
    page = client.get(f"/v/{resident.token}").get_data(as_text=True)
    assert "李*" in page and "李娜" not in page and DATA["jzz"]["id_number"] not in page
