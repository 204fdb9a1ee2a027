"""Render an electronic certificate (电子证照) as a one-page A4 PDF with ReportLab.

Pure library code: no Flask app, no database.  Callers pass every value
(title, rows, issuer, verification URL, ...) and get the PDF bytes back.

The CJK font comes from the platform's PDF toolkit (`govservice.core.pdfkit`).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from ..core.pdfkit import FontChoice, ensure_registered, find_cjk_font
from . import pdf_landscape, pdfparts

logger = logging.getLogger(__name__)

__all__ = ["render_certificate_pdf"]

# --------------------------------------------------------------------------
# Drawing helpers
# --------------------------------------------------------------------------

PAGE_W, PAGE_H = A4
MARGIN_X = 68.0
TABLE_TOP = PAGE_H - 200.0
TABLE_BOTTOM_LIMIT = 245.0


def _draw_borders(c: Canvas) -> None:
    c.saveState()
    c.setStrokeColor(pdfparts.BORDER_COLOR)
    c.setLineWidth(3.2)
    c.rect(22, 22, PAGE_W - 44, PAGE_H - 44)
    c.setLineWidth(0.9)
    c.rect(30, 30, PAGE_W - 60, PAGE_H - 60)
    # small corner ornaments on the inner frame
    size = 14
    c.setLineWidth(1.4)
    for x, y, dx, dy in (
        (30, 30, 1, 1),
        (PAGE_W - 30, 30, -1, 1),
        (30, PAGE_H - 30, 1, -1),
        (PAGE_W - 30, PAGE_H - 30, -1, -1),
    ):
        c.line(x + dx * 6, y + dy * 6, x + dx * (6 + size), y + dy * 6)
        c.line(x + dx * 6, y + dy * 6, x + dx * 6, y + dy * (6 + size))
    c.restoreState()


def _draw_rows(c: Canvas, rows: Sequence[tuple[str, str]], font_name: str) -> None:
    width = PAGE_W - 2 * MARGIN_X
    available = TABLE_TOP - TABLE_BOTTOM_LIMIT
    table = None
    height = 0.0
    for size in (12.5, 11.5, 10.5, 9.5, 8.5, 7.5, 6.5):
        table = pdfparts.build_table(rows, font_name, size, width)
        _, height = table.wrap(width, available)
        if height <= available:
            break
    else:
        logger.warning("certificate rows do not fit on one page; content may overlap the footer")
    assert table is not None
    table.drawOn(c, MARGIN_X, TABLE_TOP - height)


def render_certificate_pdf(
    *,
    title: str,
    subtitle: str | None,
    rows: list[tuple[str, str]],
    identifier: str,
    issuer_name: str,
    issued_on: str,
    valid_until: str,
    verify_url: str,
    footer: str | None = None,
    font: FontChoice | None = None,
    orientation: str = "portrait",
    issuer_label: str = "发证机关",
) -> bytes:
    """Render one certificate as a single A4 page and return the PDF bytes.

    :param title: large centred heading, e.g. ``营业执照``.
    :param subtitle: optional line under the title, e.g. ``（电子证照）``.
    :param rows: ``(label, value)`` pairs shown as a table; long values wrap
        (CJK-aware).  Newlines in values are kept.
    :param identifier: certificate number, printed small under the subtitle
        and stored as the PDF subject.
    :param issuer_name: issuing authority; bottom right, around the seal, and
        the PDF author.
    :param issued_on: issue date as it should be printed.
    :param valid_until: end of validity as it should be printed.
    :param verify_url: encoded in the QR code (caption 扫码核验).
    :param footer: optional small print at the bottom of the page.
    :param font: font to use; defaults to :func:`find_cjk_font()`.
    :param orientation: ``landscape`` lays the page out as the paper 营业执照 (``pdf_landscape``).
    :param issuer_label: what the issuer is called there (登记机关).
    """
    font = ensure_registered(font or find_cjk_font())
    if orientation == "landscape":
        return pdf_landscape.render(
            title=title,
            subtitle=subtitle,
            rows=rows,
            identifier=identifier,
            issuer_name=issuer_name,
            issued_on=issued_on,
            valid_until=valid_until,
            verify_url=verify_url,
            footer=footer,
            font=font,
            issuer_label=issuer_label,
        )
    fn = font.name

    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, pageCompression=1)
    c.setTitle(title)
    c.setAuthor(issuer_name)
    c.setSubject(identifier)
    c.setCreator("govservice 一网通办 电子证照")
    c.setKeywords(["电子证照", identifier])

    _draw_borders(c)

    # heading
    c.setFillColor(pdfparts.TEXT_COLOR)
    title_size = 34.0 if len(title) <= 8 else max(18.0, 34.0 * 8 / len(title))
    char_space = title_size * 0.35 if len(title) <= 6 else 0
    c.setFont(fn, title_size)
    # drawCentredString centres text+charSpace; shift by half a char space so
    # the glyphs (not the trailing space) are centred.
    c.drawCentredString(PAGE_W / 2 + char_space / 2, PAGE_H - 118, title, charSpace=char_space)
    if subtitle:
        c.setFont(fn, 14)
        c.drawCentredString(PAGE_W / 2, PAGE_H - 150, subtitle)
    c.setFont(fn, 9)
    c.setFillColor(pdfparts.MUTED_COLOR)
    c.drawCentredString(PAGE_W / 2, PAGE_H - 174, f"证照编号：{identifier}")
    c.setStrokeColor(pdfparts.BORDER_COLOR)
    c.setLineWidth(0.6)
    c.line(MARGIN_X, PAGE_H - 184, PAGE_W - MARGIN_X, PAGE_H - 184)

    # body; the validity goes into the table unless the caller already has it
    body = list(rows)
    if valid_until and not any("有效期" in str(label) for label, _ in body):
        body.append(("有效期至", valid_until))
    _draw_rows(c, body, fn)

    # QR code bottom left
    qr = pdfparts.qr_matrix(verify_url)
    qr_size = pdfparts.qr_size(qr[0])
    qr_x, qr_y = MARGIN_X - 6, 92.0
    pdfparts.draw_qr(c, qr, qr_x, qr_y, qr_size)
    c.setFillColor(pdfparts.TEXT_COLOR)
    c.setFont(fn, 10)
    c.drawCentredString(qr_x + qr_size / 2, qr_y - 10, "扫码核验")

    # issuer block bottom right, with the seal stamped over it
    right = PAGE_W - MARGIN_X
    c.setFillColor(pdfparts.TEXT_COLOR)
    c.setFont(fn, 13)
    c.drawRightString(right, 192, issuer_name)
    c.setFont(fn, 11.5)
    c.drawRightString(right, 168, f"发证日期：{issued_on}")
    pdfparts.draw_seal(c, right - 58, 178, 50.0, issuer_name, fn)

    if footer:
        style = ParagraphStyle(
            "cert-footer",
            fontName=fn,
            fontSize=8,
            leading=11,
            textColor=pdfparts.MUTED_COLOR,
            alignment=TA_CENTER,
            wordWrap="CJK",
        )
        para = Paragraph(pdfparts.para_text(footer), style)
        width = PAGE_W - 2 * MARGIN_X
        para.wrap(width, 40)
        para.drawOn(c, MARGIN_X, 44)

    c.showPage()
    c.save()
    return buf.getvalue()
