"""The drawing parts both certificate pages share (portrait ``pdf.py``, landscape
``pdf_landscape.py``): the colours, the canvas and its metadata, the heading, the facts table
fitted to its box, the red seal, the vector QR code with its caption and the footer. Each page
only places them. ReportLab only; no Flask app, no database."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, Table, TableStyle

from ..core.pdfkit import CertificatePage

BORDER_COLOR = colors.HexColor("#8B1A1A")
SEAL_COLOR = colors.Color(0.86, 0.08, 0.10)
LABEL_BG = colors.HexColor("#F7F1E8")
GRID_COLOR = colors.HexColor("#B9A58C")
TEXT_COLOR = colors.HexColor("#1A1A1A")
MUTED_COLOR = colors.HexColor("#555555")


def keep_glyph_table(font_name: str) -> None:
    """Keep the font's glyph table (``glyf``) as one bytes object for the process.

    Each PDF embeds the subset of the CJK font its characters need, and ReportLab's subsetter
    takes the glyph table out of the font file anew for every document: ``get_table`` slices
    the file's bytes, a copy of the whole table (10 MB for WenQuanYi Zen Hei, ~3 ms), to read
    a few hundred glyphs from it. The table never changes, so the face's ``get_table`` hands
    out one copy, made on first use (the font's other tables are small and still sliced)."""
    face = getattr(pdfmetrics.getFont(font_name), "face", None)
    if not hasattr(face, "get_table") or "get_table" in vars(face):  # not a TrueType font, or done
        return
    sliced, kept = face.get_table, {}

    def get_table(tag: str) -> bytes:
        if tag != "glyf":
            return sliced(tag)
        if tag not in kept:
            kept[tag] = sliced(tag)
        return kept[tag]

    face.get_table = get_table


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


def draw_qr(c: Canvas, qr: tuple[int, bytes], x: float, y: float, size: float, font_name: str) -> None:
    """White quiet zone, then the dark modules as one vector path scaled to ``size``; 扫码核验
    under it."""
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
    c.setFillColor(TEXT_COLOR)
    c.setFont(font_name, 10)
    c.drawCentredString(x + size / 2, y - 10, "扫码核验")


def new_canvas(buf, pagesize: tuple[float, float], page: CertificatePage) -> Canvas:
    """A canvas for one certificate page, its document information filled from the page."""
    c = Canvas(buf, pagesize=pagesize, pageCompression=1)
    c.setTitle(page.title)
    c.setAuthor(page.issuer_name)
    c.setSubject(page.identifier)
    c.setCreator("govservice 一网通办 电子证照")
    c.setKeywords(["电子证照", page.identifier])
    return c


@dataclass(frozen=True)
class Heading:
    """Where a page puts its heading: centred on ``centre``, the title, subtitle and number at
    the heights ``ys``; the title at ``size``, smaller past 8 characters down to ``min_size``, its
    characters spaced by ``spacing`` of its size up to 6; a rule (x0, x1, y) under them."""

    centre: float
    ys: tuple[float, float, float]
    size: float
    min_size: float
    spacing: float
    rule: tuple[float, float, float]


def draw_borders(c: Canvas, pagesize: tuple[float, float], *, ornaments: bool = False) -> None:
    """The certificate's double frame (a heavy outer rule, a thin inner one) and, with
    `ornaments`, small corner marks inside the inner frame."""
    width, height = pagesize
    c.saveState()
    c.setStrokeColor(BORDER_COLOR)
    c.setLineWidth(3.2)
    c.rect(22, 22, width - 44, height - 44)
    c.setLineWidth(0.9)
    c.rect(30, 30, width - 60, height - 60)
    if ornaments:
        size = 14
        c.setLineWidth(1.4)
        for x, y, dx, dy in (
            (30, 30, 1, 1),
            (width - 30, 30, -1, 1),
            (30, height - 30, 1, -1),
            (width - 30, height - 30, -1, -1),
        ):
            c.line(x + dx * 6, y + dy * 6, x + dx * (6 + size), y + dy * 6)
            c.line(x + dx * 6, y + dy * 6, x + dx * 6, y + dy * (6 + size))
    c.restoreState()


def draw_heading(c: Canvas, page: CertificatePage, font_name: str, at: Heading) -> None:
    title = page.title
    c.setFillColor(TEXT_COLOR)
    title_size = at.size if len(title) <= 8 else max(at.min_size, at.size * 8 / len(title))
    char_space = title_size * at.spacing if len(title) <= 6 else 0
    c.setFont(font_name, title_size)
    # drawCentredString centres text+charSpace; shift by half a char space so
    # the glyphs (not the trailing space) are centred.
    c.drawCentredString(at.centre + char_space / 2, at.ys[0], title, charSpace=char_space)
    if page.subtitle:
        c.setFont(font_name, 14)
        c.drawCentredString(at.centre, at.ys[1], page.subtitle)
    c.setFont(font_name, 9)
    c.setFillColor(MUTED_COLOR)
    c.drawCentredString(at.centre, at.ys[2], f"证照编号：{page.identifier}")
    c.setStrokeColor(BORDER_COLOR)
    c.setLineWidth(0.6)
    x0, x1, y = at.rule
    c.line(x0, y, x1, y)


def draw_fitted_table(
    c: Canvas,
    rows: Sequence[tuple[str, str]],
    font_name: str,
    sizes: Sequence[float],
    box: tuple[float, float, float, float],
) -> bool:
    """The facts table at the first of ``sizes`` that fits the box (x0, y0, x1, y1), hung from
    its top; False when even the smallest does not fit (it is drawn all the same)."""
    x0, y0, x1, y1 = box
    width, available = x1 - x0, y1 - y0
    table, height, fits = None, 0.0, False
    for size in sizes:
        table = build_table(rows, font_name, size, width)
        _, height = table.wrap(width, available)
        if height <= available:
            fits = True
            break
    assert table is not None
    table.drawOn(c, x0, y1 - height)
    return fits


def draw_footer(c: Canvas, text: str, font_name: str, x: float, y: float, width: float, height: float) -> None:
    """Small centred print at the bottom of the page."""
    style = ParagraphStyle(
        "cert-footer",
        fontName=font_name,
        fontSize=8,
        leading=11,
        textColor=MUTED_COLOR,
        alignment=TA_CENTER,
        wordWrap="CJK",
    )
    para = Paragraph(para_text(text), style)
    para.wrap(width, height)
    para.drawOn(c, x, y)
