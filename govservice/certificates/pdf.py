"""Render an electronic certificate (电子证照) as a one-page A4 PDF with ReportLab.

Pure library code: no Flask app, no database.  Callers pass every value
(title, rows, issuer, verification URL, ...) and get the PDF bytes back.

The CJK font comes from the platform's PDF toolkit (`govservice.core.pdfkit`).
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections.abc import Sequence
from xml.sax.saxutils import escape

import zxingcpp
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, Table, TableStyle

from ..core.pdfkit import FontChoice, ensure_registered, find_cjk_font

logger = logging.getLogger(__name__)

__all__ = ["render_certificate_pdf"]

# --------------------------------------------------------------------------
# Drawing helpers
# --------------------------------------------------------------------------

PAGE_W, PAGE_H = A4
BORDER_COLOR = colors.HexColor("#8B1A1A")
SEAL_COLOR = colors.Color(0.86, 0.08, 0.10)
LABEL_BG = colors.HexColor("#F7F1E8")
GRID_COLOR = colors.HexColor("#B9A58C")
TEXT_COLOR = colors.HexColor("#1A1A1A")
MUTED_COLOR = colors.HexColor("#555555")

MARGIN_X = 68.0
TABLE_TOP = PAGE_H - 200.0
TABLE_BOTTOM_LIMIT = 245.0


def _para_text(value: str) -> str:
    return "<br/>".join(escape(line) for line in str(value).splitlines()) or "&nbsp;"


def _draw_borders(c: Canvas) -> None:
    c.saveState()
    c.setStrokeColor(BORDER_COLOR)
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


def _build_table(rows: Sequence[tuple[str, str]], font_name: str, size: float, width: float) -> Table:
    label_style = ParagraphStyle(
        "cert-label",
        fontName=font_name,
        fontSize=size,
        leading=size * 1.45,
        textColor=TEXT_COLOR,
        alignment=TA_LEFT,
        wordWrap="CJK",
    )
    value_style = ParagraphStyle(
        "cert-value",
        parent=label_style,
        wordWrap="CJK",
    )
    pad = max(3.0, size * 0.5)
    longest = max((pdfmetrics.stringWidth(str(label), font_name, size) for label, _ in rows), default=0.0)
    label_w = min(width * 0.4, max(90.0, longest + 3.2 * pad + 2))
    data = [
        [Paragraph(_para_text(label), label_style), Paragraph(_para_text(value), value_style)] for label, value in rows
    ] or [[Paragraph("&nbsp;", label_style), Paragraph("&nbsp;", value_style)]]
    table = Table(data, colWidths=[label_w, width - label_w])
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (0, -1), LABEL_BG),
                ("BOX", (0, 0), (-1, -1), 0.9, GRID_COLOR),
                ("INNERGRID", (0, 0), (-1, -1), 0.5, GRID_COLOR),
                ("VALIGN", (0, 0), (0, -1), "MIDDLE"),
                ("VALIGN", (1, 0), (1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), pad * 1.6),
                ("RIGHTPADDING", (0, 0), (-1, -1), pad * 1.6),
                ("TOPPADDING", (0, 0), (-1, -1), pad),
                ("BOTTOMPADDING", (0, 0), (-1, -1), pad + 1),
            ]
        )
    )
    return table


def _draw_rows(c: Canvas, rows: Sequence[tuple[str, str]], font_name: str) -> None:
    width = PAGE_W - 2 * MARGIN_X
    available = TABLE_TOP - TABLE_BOTTOM_LIMIT
    table = None
    height = 0.0
    for size in (12.5, 11.5, 10.5, 9.5, 8.5, 7.5, 6.5):
        table = _build_table(rows, font_name, size, width)
        _, height = table.wrap(width, available)
        if height <= available:
            break
    else:
        logger.warning("certificate rows do not fit on one page; content may overlap the footer")
    assert table is not None
    table.drawOn(c, MARGIN_X, TABLE_TOP - height)


def _star_path(c: Canvas, cx: float, cy: float, r_outer: float):
    r_inner = r_outer * 0.382
    p = c.beginPath()
    for i in range(10):
        r = r_outer if i % 2 == 0 else r_inner
        ang = math.radians(90 + i * 36)
        x, y = cx + r * math.cos(ang), cy + r * math.sin(ang)
        if i == 0:
            p.moveTo(x, y)
        else:
            p.lineTo(x, y)
    p.close()
    return p


def _draw_seal(c: Canvas, cx: float, cy: float, radius: float, issuer_name: str, font_name: str) -> None:
    """A red round seal: double ring, issuer name on the upper arc, a star,
    and 电子证照专用 across the lower half."""
    c.saveState()
    c.setFillAlpha(0.88)
    c.setStrokeAlpha(0.88)
    c.setStrokeColor(SEAL_COLOR)
    c.setFillColor(SEAL_COLOR)
    c.setLineWidth(2.6)
    c.circle(cx, cy, radius, stroke=1, fill=0)
    c.setLineWidth(0.6)
    c.circle(cx, cy, radius - 4.2, stroke=1, fill=0)

    # issuer name along the upper arc, each character upright towards the rim
    name = issuer_name.strip() or "电子证照"
    n = len(name)
    text_r = radius - 15.0
    size = 11.0 if n <= 12 else max(7.0, 11.0 * 12 / n)
    step = math.degrees((size * 1.12) / text_r)
    span = min(250.0, step * (n - 1))
    if n > 1:
        step = span / (n - 1)
    start = 90.0 + span / 2
    c.setFont(font_name, size)
    for i, ch in enumerate(name):
        ang = start - i * step
        rad = math.radians(ang)
        c.saveState()
        c.translate(cx + text_r * math.cos(rad), cy + text_r * math.sin(rad))
        c.rotate(ang - 90)
        c.drawCentredString(0, -size * 0.36, ch)
        c.restoreState()

    c.drawPath(_star_path(c, cx, cy + 1, radius * 0.24), stroke=0, fill=1)
    label_size = 8.5
    c.setFont(font_name, label_size)
    c.drawCentredString(cx, cy - radius * 0.52, "电子证照专用")
    c.restoreState()


QR_BORDER = 4  # quiet zone, in modules
_DARK_RUN = re.compile(rb"\x00+")


def _qr_matrix(value: str) -> tuple[int, bytes]:
    """The QR code (error correction M) as (side, one byte per module, row by row, 0 = dark).

    Encoded by zxing-cpp in C++ (mask chosen by the standard's penalty rules) in about a
    millisecond; the pure-Python ``qrcode`` library spent ~30 ms of every issuance on it.
    """
    barcode = zxingcpp.create_barcode(value, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    modules = memoryview(barcode.to_image(scale=1, add_quiet_zones=False))
    return modules.shape[0], modules.tobytes()


def _qr_size(side: int) -> float:
    """Side length in points: at least 100pt, growing for long URLs so a
    module stays >= ~0.5 mm when printed (capped at 150pt)."""
    return float(min(150.0, max(100.0, (side + 2 * QR_BORDER) * 1.45)))


def _qr_operators(side: int, modules: bytes) -> str:
    """PDF path operators for the dark modules in module units (origin bottom left): each
    row's runs of dark modules are one integer rectangle, so the vector code stays small and
    is written without per-number float formatting."""
    # rows joined by a light separator, so one scan finds every run and none crosses a row
    stride = side + 1
    rows = b"\xff".join(modules[row * side : (row + 1) * side] for row in range(side))
    ops = [
        "%d %d %d 1 re" % (start % stride, side - 1 - start // stride, end - start)  # noqa: UP031
        for start, end in (run.span() for run in _DARK_RUN.finditer(rows))
    ]
    ops.append("f")
    return "\n".join(ops)


def _draw_qr(c: Canvas, qr: tuple[int, bytes], x: float, y: float, size: float) -> None:
    """White quiet zone, then the dark modules as one vector path scaled to ``size``."""
    side, modules = qr
    module = size / (side + 2 * QR_BORDER)
    c.saveState()
    c.setFillColor(colors.white)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColor(colors.black)
    c.translate(x + QR_BORDER * module, y + QR_BORDER * module)
    c.scale(module, module)
    c.addLiteral(_qr_operators(side, modules))
    c.restoreState()


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
        from . import pdf_landscape

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
    c.setFillColor(TEXT_COLOR)
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
    c.setFillColor(MUTED_COLOR)
    c.drawCentredString(PAGE_W / 2, PAGE_H - 174, f"证照编号：{identifier}")
    c.setStrokeColor(BORDER_COLOR)
    c.setLineWidth(0.6)
    c.line(MARGIN_X, PAGE_H - 184, PAGE_W - MARGIN_X, PAGE_H - 184)

    # body; the validity goes into the table unless the caller already has it
    body = list(rows)
    if valid_until and not any("有效期" in str(label) for label, _ in body):
        body.append(("有效期至", valid_until))
    _draw_rows(c, body, fn)

    # QR code bottom left
    qr = _qr_matrix(verify_url)
    qr_size = _qr_size(qr[0])
    qr_x, qr_y = MARGIN_X - 6, 92.0
    _draw_qr(c, qr, qr_x, qr_y, qr_size)
    c.setFillColor(TEXT_COLOR)
    c.setFont(fn, 10)
    c.drawCentredString(qr_x + qr_size / 2, qr_y - 10, "扫码核验")

    # issuer block bottom right, with the seal stamped over it
    right = PAGE_W - MARGIN_X
    c.setFillColor(TEXT_COLOR)
    c.setFont(fn, 13)
    c.drawRightString(right, 192, issuer_name)
    c.setFont(fn, 11.5)
    c.drawRightString(right, 168, f"发证日期：{issued_on}")
    _draw_seal(c, right - 58, 178, 50.0, issuer_name, fn)

    if footer:
        style = ParagraphStyle(
            "cert-footer",
            fontName=fn,
            fontSize=8,
            leading=11,
            textColor=MUTED_COLOR,
            alignment=TA_CENTER,
            wordWrap="CJK",
        )
        para = Paragraph(_para_text(footer), style)
        width = PAGE_W - 2 * MARGIN_X
        para.wrap(width, 40)
        para.drawOn(c, MARGIN_X, 44)

    c.showPage()
    c.save()
    return buf.getvalue()
