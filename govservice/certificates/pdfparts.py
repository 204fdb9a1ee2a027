"""The drawing parts both certificate pages share (portrait ``pdf.py``, landscape
``pdf_landscape.py``): the colours, the facts table, the red seal and the vector QR code.
ReportLab only; no Flask app, no database."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from xml.sax.saxutils import escape

import zxingcpp
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, Table, TableStyle

BORDER_COLOR = colors.HexColor("#8B1A1A")
SEAL_COLOR = colors.Color(0.86, 0.08, 0.10)
LABEL_BG = colors.HexColor("#F7F1E8")
GRID_COLOR = colors.HexColor("#B9A58C")
TEXT_COLOR = colors.HexColor("#1A1A1A")
MUTED_COLOR = colors.HexColor("#555555")


def para_text(value: str) -> str:
    return "<br/>".join(escape(line) for line in str(value).splitlines()) or "&nbsp;"


def build_table(rows: Sequence[tuple[str, str]], font_name: str, size: float, width: float) -> Table:
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
        [Paragraph(para_text(label), label_style), Paragraph(para_text(value), value_style)] for label, value in rows
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


def draw_seal(c: Canvas, cx: float, cy: float, radius: float, issuer_name: str, font_name: str) -> None:
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


def qr_matrix(value: str) -> tuple[int, bytes]:
    """The QR code (error correction M) as (side, one byte per module, row by row, 0 = dark).

    Encoded by zxing-cpp in C++ (mask chosen by the standard's penalty rules) in about a
    millisecond; the pure-Python ``qrcode`` library spent ~30 ms of every issuance on it.
    """
    barcode = zxingcpp.create_barcode(value, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    modules = memoryview(barcode.to_image(scale=1, add_quiet_zones=False))
    return modules.shape[0], modules.tobytes()


def qr_size(side: int) -> float:
    """Side length in points: at least 100pt, growing for long URLs so a
    module stays >= ~0.5 mm when printed (capped at 150pt)."""
    return float(min(150.0, max(100.0, (side + 2 * QR_BORDER) * 1.45)))


def qr_operators(side: int, modules: bytes) -> str:
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


def draw_qr(c: Canvas, qr: tuple[int, bytes], x: float, y: float, size: float) -> None:
    """White quiet zone, then the dark modules as one vector path scaled to ``size``."""
    side, modules = qr
    module = size / (side + 2 * QR_BORDER)
    c.saveState()
    c.setFillColor(colors.white)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColor(colors.black)
    c.translate(x + QR_BORDER * module, y + QR_BORDER * module)
    c.scale(module, module)
    c.addLiteral(qr_operators(side, modules))
    c.restoreState()
