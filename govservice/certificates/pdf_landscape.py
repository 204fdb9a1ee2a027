"""The landscape page of a certificate laid out like the paper 营业执照: title centred at the top,
the QR at the top right (扫码核验), the registration facts in a table on the left two thirds, and
at the bottom right the 登记机关 (named with its region) and the date with the seal stamped over
them, clear of the table. The same layout data as the portrait page (``pdf.render_certificate_pdf``
dispatches here for ``orientation = "landscape"``), drawn with its parts (borders, table, QR, seal).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from ..core.pdfkit import FontChoice
from . import pdfparts

logger = logging.getLogger(__name__)

PAGE_W, PAGE_H = landscape(A4)  # 842 x 595 pt
MARGIN = 56.0
RIGHT_COLUMN = 230.0  # the QR above, the issuer block and its seal below
TABLE_TOP = PAGE_H - 176.0
TABLE_BOTTOM = 70.0
SEAL_RADIUS = 50.0


def seal_centre() -> tuple[float, float]:
    """Where the seal is stamped (pt, origin bottom left): over the issuer block, right of the table."""
    return PAGE_W - MARGIN - RIGHT_COLUMN / 2, 150.0


def table_box() -> tuple[float, float, float, float]:
    """The table's area (x0, y0, x1, y1): the left part of the page, clear of the right column."""
    return MARGIN, TABLE_BOTTOM, PAGE_W - MARGIN - RIGHT_COLUMN - 16, TABLE_TOP


def _borders(c: Canvas) -> None:
    c.saveState()
    c.setStrokeColor(pdfparts.BORDER_COLOR)
    c.setLineWidth(3.2)
    c.rect(22, 22, PAGE_W - 44, PAGE_H - 44)
    c.setLineWidth(0.9)
    c.rect(30, 30, PAGE_W - 60, PAGE_H - 60)
    c.restoreState()


def _table(c: Canvas, rows: Sequence[tuple[str, str]], font_name: str) -> None:
    x0, y0, x1, y1 = table_box()
    width, available = x1 - x0, y1 - y0
    table, height = None, 0.0
    for size in (12.0, 11.0, 10.0, 9.0, 8.0, 7.0, 6.5):
        table = pdfparts.build_table(rows, font_name, size, width)
        _, height = table.wrap(width, available)
        if height <= available:
            break
    else:
        logger.warning("certificate rows do not fit on the landscape page; content may overlap the footer")
    assert table is not None
    table.drawOn(c, x0, y1 - height)


def render(
    *,
    title: str,
    subtitle: str | None,
    rows: list[tuple[str, str]],
    identifier: str,
    issuer_name: str,
    issued_on: str,
    valid_until: str,
    verify_url: str,
    footer: str | None,
    font: FontChoice,
    issuer_label: str,
) -> bytes:
    fn = font.name
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(PAGE_W, PAGE_H), pageCompression=1)
    c.setTitle(title)
    c.setAuthor(issuer_name)
    c.setSubject(identifier)
    c.setCreator("govservice 一网通办 电子证照")
    c.setKeywords(["电子证照", identifier])
    _borders(c)

    # heading, centred between the left border and the QR
    c.setFillColor(pdfparts.TEXT_COLOR)
    title_size = 40.0 if len(title) <= 8 else max(20.0, 40.0 * 8 / len(title))
    char_space = title_size * 0.5 if len(title) <= 6 else 0
    c.setFont(fn, title_size)
    c.drawCentredString(PAGE_W / 2 + char_space / 2, PAGE_H - 100, title, charSpace=char_space)
    if subtitle:
        c.setFont(fn, 14)
        c.drawCentredString(PAGE_W / 2, PAGE_H - 128, subtitle)
    c.setFont(fn, 9)
    c.setFillColor(pdfparts.MUTED_COLOR)
    c.drawCentredString(PAGE_W / 2, PAGE_H - 148, f"证照编号：{identifier}")
    c.setStrokeColor(pdfparts.BORDER_COLOR)
    c.setLineWidth(0.6)
    x0, _, x1, _ = table_box()
    c.line(x0, PAGE_H - 160, x1, PAGE_H - 160)

    body = list(rows)
    if valid_until and not any("有效期" in str(label) for label, _ in body):
        body.append(("有效期至", valid_until))
    _table(c, body, fn)

    # QR at the top right, inside the frame
    qr = pdfparts.qr_matrix(verify_url)
    size = min(pdfparts.qr_size(qr[0]), 130.0)
    qr_x, qr_y = PAGE_W - MARGIN - size + 6, PAGE_H - 44 - size
    pdfparts.draw_qr(c, qr, qr_x, qr_y, size)
    c.setFillColor(pdfparts.TEXT_COLOR)
    c.setFont(fn, 10)
    c.drawCentredString(qr_x + size / 2, qr_y - 10, "扫码核验")

    # the issuer block at the bottom right, the seal stamped over it (clear of the table)
    cx, cy = seal_centre()
    c.setFillColor(pdfparts.TEXT_COLOR)
    c.setFont(fn, 12)
    c.drawCentredString(cx, cy + 64, issuer_label)  # above the seal, the name and date under and below it
    c.setFont(fn, 13 if len(issuer_name) <= 14 else max(9.0, 13 * 14 / len(issuer_name)))
    c.drawCentredString(cx, cy + 8, issuer_name)
    c.setFont(fn, 11.5)
    c.drawCentredString(cx, cy - 62, issued_on)
    pdfparts.draw_seal(c, cx, cy + 4, SEAL_RADIUS, issuer_name, fn)

    if footer:
        style = ParagraphStyle(
            "cert-footer-landscape",
            fontName=fn,
            fontSize=8,
            leading=11,
            textColor=pdfparts.MUTED_COLOR,
            alignment=TA_CENTER,
            wordWrap="CJK",
        )
        para = Paragraph(pdfparts.para_text(footer), style)
        para.wrap(PAGE_W - 2 * MARGIN, 30)
        para.drawOn(c, MARGIN, 40)

    c.showPage()
    c.save()
    return buf.getvalue()
