"""OFD (GB/T 33190): the wallet offers every certificate as OFD, read by an independent parser
(ofdkit, from PyPI), with the Chinese font embedded and a QR that leads to the certificate; a
package with one changed byte is refused by the parser."""

from __future__ import annotations

import io
import zipfile

import ofdkit
import pytest
from fontTools.ttLib import TTFont

from govservice.certificates import shortref
from govservice.certificates.models import Certificate
from govservice.core.extensions import db

from ..factories import DATA, issue


def test_the_wallet_downloads_an_ofd_with_the_font_embedded(app, ctx, clock, client, login_as):
    certificate = issue("yyzz")
    login_as(client, "张三")
    assert "下载OFD" in client.get("/wallet").get_data(as_text=True)
    answer = client.get(f"/wallet/{certificate.identifier}.ofd")
    assert answer.status_code == 200 and answer.mimetype == "application/ofd"
    package = answer.data

    with ofdkit.open(package) as document:  # the independent reader
        assert (document.info.title, document.info.doc_id) == ("营业执照", certificate.identifier)
        assert document.info.author == "北京市朝阳区" + certificate.issuer.name  # named with its region
        [page] = document.pages
        assert (round(page.width), round(page.height)) == (297, 210)  # the 营业执照 is landscape
        text = document.text()
    for value in (
        DATA["yyzz"]["business_name"],
        DATA["yyzz"]["credit_code"],
        certificate.issuer.name,
        "扫码核验",
        certificate.identifier,
    ):
        assert value in text.replace("\n", ""), value

    # the font the page names is in the package, a real TrueType font with every glyph drawn
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        assert "Doc_0/Res/font_2.ttf" in archive.namelist()
        font = TTFont(io.BytesIO(archive.read("Doc_0/Res/font_2.ttf")))
        content = archive.read("Doc_0/Pages/Page_0/Content.xml").decode()
    cmap = font.getBestCmap()
    assert all(ord(ch) in cmap for ch in DATA["yyzz"]["business_name"] + "营业执照")
    assert len(package) < 200_000  # a subset, not the 17 MB collection

    # the QR, as paths: its reference names this certificate and verifies under the published keys
    assert "AbbreviatedData" in content
    reference = _reference_in(content, app)
    jwks = app.test_client().get("/.well-known/jwks.json").get_json()
    assert shortref.identifier_of(shortref.verify_with_jwks(reference, jwks)) == certificate.identifier

    # rendered once, then kept
    assert db.session.get(Certificate, certificate.id).ofd_blob_key
    assert client.get(f"/wallet/{certificate.identifier}.ofd").data == package


def _reference_in(content: str, app) -> str:
    """The QR's text, decoded from the package's vector paths rasterised here (OFD readers draw them)."""
    import re

    import zxingcpp
    from PIL import Image, ImageDraw

    path = re.search(
        r'CTM="([\d.]+) 0 0 [\d.]+ [\d.]+ [\d.]+"><ofd:FillColor Value="0 0 0"/><ofd:AbbreviatedData>'
        r"([^<]+)</ofd:AbbreviatedData>",
        content,
    )
    runs = re.findall(r"M (\d+) (\d+) L (\d+) \d+", path.group(2))
    side = max(int(row) for _, row, _ in runs) + 1
    scale = 6
    image = Image.new("L", ((side + 8) * scale, (side + 8) * scale), 255)
    draw = ImageDraw.Draw(image)
    for start, row, end in runs:
        x0, y0 = (int(start) + 4) * scale, (int(row) + 4) * scale
        draw.rectangle([x0, y0, (int(end) + 4) * scale - 1, y0 + scale - 1], fill=0)
    [decoded] = zxingcpp.read_barcodes(image)
    prefix = app.config["PUBLIC_URL"] + "/r/"
    assert decoded.text.startswith(prefix)
    return decoded.text[len(prefix) :]


def test_an_altered_ofd_is_refused_by_the_parser(ctx, clock):
    from govservice.certificates import documents

    package = documents.ofd_bytes(issue("spjyxkz"))
    start = package.index(b"Doc_0/Pages/Page_0/Content.xml") + 40  # inside the page's compressed content
    altered = package[:start] + bytes([package[start] ^ 0xFF]) + package[start + 1 :]
    with ofdkit.open(package) as document:
        assert document.pages[0].text()
    with pytest.raises(ofdkit.OFDError, match="Bad CRC-32|Error -3"):  # the page's checksum no longer matches
        with ofdkit.open(altered) as document:
            document.pages[0].text()
