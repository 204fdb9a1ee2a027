"""The 营业执照 is laid out like the paper licence: a landscape page, the QR at the top right (read
from a 150-dpi image of the print), the 登记机关 named with its region at the bottom right under
the seal, the seal clear of the registration facts; other types stay portrait."""

from __future__ import annotations

import io

from pypdf import PdfReader

from govservice.certificates import pdf_landscape, services

from ..factories import DATA, issue
from .test_shortref import _scan_printed_page, needs_pdftoppm


def _positions(document: bytes) -> list[tuple[str, float, float]]:
    """Each piece of text on the page with where it starts (pt, origin bottom left), as a reader finds it."""
    found = []

    def visit(text, cm, tm, _font, _size):
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            found.append((text.strip(), x, y))

    PdfReader(io.BytesIO(document)).pages[0].extract_text(visitor_text=visit)
    return found


def test_the_business_licence_is_landscape_with_its_registration_authority_and_region(ctx, clock):
    certificate = issue("yyzz")
    document = services.pdf_bytes(certificate)
    page = PdfReader(io.BytesIO(document)).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (842, 595)
    text = page.extract_text().replace(" ", "").replace("\n", "")
    assert "登记机关" in text and "北京市朝阳区市场监督管理局" in text
    assert DATA["yyzz"]["business_name"] in text and "营业执照" in text

    # the seal sits over the issuer block, right of every registration fact
    cx, cy = pdf_landscape.seal_centre()
    left_of_seal = cx - pdf_landscape.SEAL_RADIUS
    facts = [
        (t, x, y)
        for t, x, y in _positions(document)
        if any(t and t in str(v) for v in DATA["yyzz"].values()) and len(t) >= 2
    ]
    assert facts, "no registration fact found on the page"
    for t, x, y in facts:
        assert x < left_of_seal, (t, x, y)
    issuer = [(x, y) for t, x, y in _positions(document) if t == "北京市朝阳区市场监督管理局"]
    assert issuer and all(abs(y - cy) < pdf_landscape.SEAL_RADIUS for _, y in issuer)

    # another type keeps the portrait page
    other = PdfReader(io.BytesIO(services.pdf_bytes(issue("spjyxkz")))).pages[0]
    assert float(other.mediabox.width) < float(other.mediabox.height)


@needs_pdftoppm
def test_the_landscape_licence_qr_is_at_the_top_right_and_scans_from_150_dpi(ctx, clock, tmp_path):
    import zxingcpp
    from PIL import Image

    document = services.pdf_bytes(issue("yyzz"))
    [text] = _scan_printed_page(tmp_path, document)
    assert text.startswith("http://localhost/r/")
    with Image.open(tmp_path / "page.png") as image:  # the 150-dpi image the scan read
        width, height = image.size
        [found] = zxingcpp.read_barcodes(image.convert("L"))
    corners = [found.position.top_left, found.position.top_right, found.position.bottom_left]
    centre_x = sum(p.x for p in corners) / 3
    centre_y = sum(p.y for p in corners) / 3
    assert width > height and centre_x > 0.75 * width and centre_y < 0.35 * height, (centre_x, centre_y)
