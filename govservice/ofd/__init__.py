"""OFD (GB/T 33190-2016, 版式文档) output of a certificate, from the same layout data as its PDF.

An OFD file is a ZIP package of XML parts::

    OFD.xml                          entry: DocInfo, DocRoot
    Doc_0/Document.xml               CommonData (page area, MaxUnitID, PublicRes), Pages
    Doc_0/PublicRes.xml              Fonts: the CJK font, with its FontFile
    Doc_0/Res/font_<id>.ttf          the font, embedded: a TrueType subset of the glyphs used
    Doc_0/Pages/Page_0/Content.xml   one Layer: TextObjects, PathObjects (borders, QR, seal)

Units are millimetres, origin top left, as the standard has them. The font is subset with
fontTools (the glyphs of the page only; the system's TTC collection is some 17 MB). The QR is
drawn as vector paths from zxing-cpp's encoding, like the PDF's. Pure library code: no Flask app.
"""

from __future__ import annotations

import io
import threading
import zipfile
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from ..core.pdfkit import CertificatePage, qr_matrix

NS = "http://www.ofdspec.org/2016"
PAGE_W, PAGE_H = 210.0, 297.0
MARGIN = 24.0
FONT_ID = 2
_font_lock = threading.Lock()


def _width(text: str, size: float) -> list[float]:
    """Advance of each character: CJK full width, the rest half (what the subset font draws)."""
    return [size if ord(ch) > 0x2E7F else size * 0.5 for ch in text]


def _text(obj_id: int, text: str, x: float, y: float, size: float, color: str = "0 0 0", align: str = "left") -> str:
    widths = _width(text, size)
    total = sum(widths)
    left = x - total / 2 if align == "center" else x - total if align == "right" else x
    deltas = " ".join(f"{w:.2f}" for w in widths[:-1])
    return (
        f'<ofd:TextObject ID="{obj_id}" Boundary="{left:.2f} {y - size:.2f} {total + 1:.2f} {size * 1.4:.2f}" '
        f'Font="{FONT_ID}" Size="{size:.2f}"><ofd:FillColor Value="{color}"/>'
        f'<ofd:TextCode X="0" Y="{size:.2f}"'
        + (f' DeltaX="{deltas}"' if deltas else "")
        + f">{escape(text)}</ofd:TextCode></ofd:TextObject>"
    )


def _wrap(text: str, size: float, width: float) -> list[str]:
    lines, line, used = [], "", 0.0
    for ch, w in zip(text, _width(text, size)):
        if ch == "\n" or used + w > width:
            lines.append(line)
            line, used = "", 0.0
            if ch == "\n":
                continue
        line += ch
        used += w
    return lines + [line] if line or not lines else lines


def _qr_path(obj_id: int, value: str, x: float, y: float, size: float) -> str:
    side, data = qr_matrix(value)
    cell = size / (side + 8)
    ops = []
    for row in range(side):
        col = 0
        while col < side:
            if data[row * side + col] == 0:
                start = col
                while col < side and data[row * side + col] == 0:
                    col += 1
                ops.append(f"M {start} {row} L {col} {row} L {col} {row + 1} L {start} {row + 1} C")
            else:
                col += 1
    offset = 4 * cell
    return (
        f'<ofd:PathObject ID="{obj_id}" Boundary="{x:.2f} {y:.2f} {size:.2f} {size:.2f}" Fill="true" '
        f'Stroke="false" CTM="{cell:.4f} 0 0 {cell:.4f} {offset:.4f} {offset:.4f}">'
        f'<ofd:FillColor Value="0 0 0"/><ofd:AbbreviatedData>{" ".join(ops)}</ofd:AbbreviatedData>'
        f"</ofd:PathObject>"
    )


def _rect(obj_id: int, x: float, y: float, w: float, h: float, color: str, line: float) -> str:
    return (
        f'<ofd:PathObject ID="{obj_id}" Boundary="{x:.2f} {y:.2f} {w:.2f} {h:.2f}" LineWidth="{line}">'
        f'<ofd:StrokeColor Value="{color}"/>'
        f"<ofd:AbbreviatedData>M 0 0 L {w:.2f} 0 L {w:.2f} {h:.2f} L 0 {h:.2f} C</ofd:AbbreviatedData>"
        f"</ofd:PathObject>"
    )


def _seal(obj_id: int, cx: float, cy: float, r: float) -> str:
    k = 0.5523 * r  # a circle from four Bézier arcs
    d = (
        f"M {2 * r:.2f} {r:.2f} B {2 * r:.2f} {r + k:.2f} {r + k:.2f} {2 * r:.2f} {r:.2f} {2 * r:.2f} "
        f"B {r - k:.2f} {2 * r:.2f} 0 {r + k:.2f} 0 {r:.2f} B 0 {r - k:.2f} {r - k:.2f} 0 {r:.2f} 0 "
        f"B {r + k:.2f} 0 {2 * r:.2f} {r - k:.2f} {2 * r:.2f} {r:.2f} C"
    )
    return (
        f'<ofd:PathObject ID="{obj_id}" Boundary="{cx - r:.2f} {cy - r:.2f} {2 * r:.2f} {2 * r:.2f}" '
        f'LineWidth="0.8"><ofd:StrokeColor Value="200 30 30"/><ofd:AbbreviatedData>{d}</ofd:AbbreviatedData>'
        f"</ofd:PathObject>"
    )


def _rows(ids, body: Sequence[tuple[str, str]], y: float, size: float, label_w: float, right: float, gap: float):
    """The facts, label and wrapped value, from ``y`` down; the objects drawn."""
    objects = []
    for label, value in body:
        objects.append(_text(next(ids), str(label), MARGIN, y, size, "60 60 60"))
        for line in _wrap(str(value), size, right - MARGIN - label_w):
            objects.append(_text(next(ids), line, MARGIN + label_w, y, size))
            y += size * 1.5
        y += size * gap
    return objects


def _footer(ids, footer: str | None, width: float, y: float, lines: int) -> list[str]:
    if not footer:
        return []
    wrapped = _wrap(footer, 2.8, width - 2 * MARGIN)[:lines]
    return [
        _text(next(ids), line, width / 2, y + index * 4, 2.8, "90 90 90", "center")
        for index, line in enumerate(wrapped)
    ]


def _frame_and_heading(ids, width, height, title, subtitle, identifier, ys, title_size) -> list[str]:
    """The double red frame, the title, the subtitle and the identifier line (at ``ys`` mm)."""
    title_y, subtitle_y, identifier_y = ys
    objects = [
        _rect(next(ids), 10, 10, width - 20, height - 20, "160 30 30", 1.2),
        _rect(next(ids), 13, 13, width - 26, height - 26, "160 30 30", 0.4),
        _text(
            next(ids), title, width / 2, title_y, title_size if len(title) <= 8 else title_size * 0.75, align="center"
        ),
    ]
    if subtitle:
        objects.append(_text(next(ids), subtitle, width / 2, subtitle_y, 5, align="center"))
    objects.append(
        _text(next(ids), f"证照编号：{identifier}", width / 2, identifier_y, 3.2, "90 90 90", align="center")
    )
    return objects


def subset_font(path: str, text: str) -> bytes:
    """A standalone TrueType font with the glyphs of ``text`` (face 0 of a collection)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    with _font_lock:  # fontTools is not thread-safe on one file handle; each call opens its own
        font = TTFont(path, fontNumber=0, lazy=True)
    for tag in ("GSUB", "GPOS", "GDEF", "EBDT", "EBLC", "EBSC", "BDF ", "FFTM"):
        if tag in font:  # bitmaps and layout rules a certificate does not need: most of the time
            del font[tag]
    options = subset.Options()
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.layout_features = []
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def render_certificate_ofd(*, font_path: str, font_name: str = "CJK", **page) -> bytes:
    """One certificate as a single-page OFD package: the keywords are the fields of
    :class:`~govservice.core.pdfkit.CertificatePage`, those of ``render_certificate_pdf``."""
    sheet = CertificatePage(**page)
    if sheet.orientation == "landscape":
        return _render_landscape(sheet, font_path, font_name)
    return _render_portrait(sheet, font_path, font_name)


def _render_portrait(page: CertificatePage, font_path: str, font_name: str) -> bytes:
    ids = iter(range(10, 100000))
    objects = _frame_and_heading(ids, PAGE_W, PAGE_H, page.title, page.subtitle, page.identifier, (46, 56, 64), 12)
    objects += _rows(ids, page.body(), 80.0, 4.2, 32.0, PAGE_W - MARGIN, 0.6)
    qr = 40.0
    objects.append(_qr_path(next(ids), page.verify_url, MARGIN - 2, PAGE_H - 78, qr))
    objects.append(_text(next(ids), "扫码核验", MARGIN - 2 + qr / 2, PAGE_H - 32, 3.5, align="center"))
    right = PAGE_W - MARGIN
    objects.append(_text(next(ids), page.issuer_name, right, PAGE_H - 66, 4.6, align="right"))
    objects.append(_text(next(ids), f"发证日期：{page.issued_on}", right, PAGE_H - 58, 4, align="right"))
    objects.append(_seal(next(ids), right - 20, PAGE_H - 64, 17))
    objects.append(_text(next(ids), "电子证照专用", right - 20, PAGE_H - 52, 2.8, "200 30 30", align="center"))
    objects += _footer(ids, page.footer, PAGE_W, PAGE_H - 22, 3)
    used = page.characters("证照编号：扫码核验发证日期电子证照专用")
    return _package(objects, next(ids), used, page, font_path, font_name, PAGE_W, PAGE_H)


def _package(
    objects: list[str],
    max_id: int,
    used: str,
    page: CertificatePage,
    font_path: str,
    font_name: str,
    width: float,
    height: float,
) -> bytes:
    """The OFD package of one page of ``objects``, the font subset to the characters ``used``."""
    identifier, title, issuer_name = page.identifier, page.title, page.issuer_name
    font = subset_font(font_path, "".join(sorted(set(used))))
    head = '<?xml version="1.0" encoding="UTF-8"?>\n'
    parts = {
        "OFD.xml": head + f'<ofd:OFD xmlns:ofd="{NS}" Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo>'
        f"<ofd:DocID>{escape(identifier)}</ofd:DocID><ofd:Title>{escape(title)}</ofd:Title>"
        f"<ofd:Author>{escape(issuer_name)}</ofd:Author><ofd:Subject>{escape(identifier)}</ofd:Subject>"
        f"<ofd:Creator>govservice 一网通办 电子证照</ofd:Creator></ofd:DocInfo>"
        f"<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        "Doc_0/Document.xml": head + f'<ofd:Document xmlns:ofd="{NS}"><ofd:CommonData>'
        f"<ofd:MaxUnitID>{max_id}</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 {width:.0f} {height:.0f}"
        f"</ofd:PhysicalBox></ofd:PageArea><ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData>"
        f'<ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages></ofd:Document>',
        "Doc_0/PublicRes.xml": head + f'<ofd:Res xmlns:ofd="{NS}" BaseLoc="Res"><ofd:Fonts>'
        f'<ofd:Font ID="{FONT_ID}" FontName={quoteattr(font_name)} FamilyName={quoteattr(font_name)}>'
        f"<ofd:FontFile>font_{FONT_ID}.ttf</ofd:FontFile></ofd:Font></ofd:Fonts></ofd:Res>",
        f"Doc_0/Res/font_{FONT_ID}.ttf": font,
        "Doc_0/Pages/Page_0/Content.xml": head + f'<ofd:Page xmlns:ofd="{NS}"><ofd:Content>'
        f'<ofd:Layer ID="3">{"".join(objects)}</ofd:Layer></ofd:Content></ofd:Page>',
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in parts.items():
            package.writestr(name, data.encode("utf-8") if isinstance(data, str) else data)
    return out.getvalue()


def seal_boundary(orientation: str = "portrait") -> tuple[float, float, float, float]:
    """Where ``render_certificate_ofd`` draws the seal (mm: x y w h): the StampAnnot of its SM2 seal."""
    radius = 17.0
    if orientation == "landscape":
        cx, cy = _landscape_seal_centre()
        return (cx - radius, cy - radius, 2 * radius, 2 * radius)
    right = PAGE_W - MARGIN
    return (right - 20 - radius, PAGE_H - 64 - radius, 2 * radius, 2 * radius)


LANDSCAPE_W, LANDSCAPE_H = PAGE_H, PAGE_W
LANDSCAPE_RIGHT_COLUMN = 80.0  # the QR above, the issuer block and its seal below


def _landscape_seal_centre() -> tuple[float, float]:
    return LANDSCAPE_W - MARGIN - LANDSCAPE_RIGHT_COLUMN / 2, 160.0


def _render_landscape(page: CertificatePage, font_path: str, font_name: str) -> bytes:
    """The landscape page, as the paper 营业执照 (the layout of ``pdf_landscape``): QR top right,
    the facts on the left, the issuer named with its region and the seal at the bottom right."""
    w, h = LANDSCAPE_W, LANDSCAPE_H
    ids = iter(range(10, 100000))
    objects = _frame_and_heading(ids, w, h, page.title, page.subtitle, page.identifier, (36, 45, 52), 14)
    qr = 36.0
    qr_x = w - MARGIN - qr + 2
    objects.append(_qr_path(next(ids), page.verify_url, qr_x, 18, qr))
    objects.append(_text(next(ids), "扫码核验", qr_x + qr / 2, 18 + qr + 4, 3.5, align="center"))
    objects += _rows(ids, page.body(), 66.0, 4.0, 30.0, w - MARGIN - LANDSCAPE_RIGHT_COLUMN - 6, 0.5)
    cx, cy = _landscape_seal_centre()
    issuer_name = page.issuer_name
    objects.append(_text(next(ids), page.issuer_label, cx, cy - 12, 4.2, align="center"))
    objects.append(_text(next(ids), issuer_name, cx, cy + 1, 4.4 if len(issuer_name) <= 14 else 3.4, align="center"))
    objects.append(_text(next(ids), page.issued_on, cx, cy + 10, 4, align="center"))
    objects.append(_seal(next(ids), cx, cy, 17))
    objects.append(_text(next(ids), "电子证照专用", cx, cy + 14, 2.8, "200 30 30", align="center"))
    objects += _footer(ids, page.footer, w, h - 18, 2)
    used = page.characters(page.issuer_label, "证照编号：扫码核验电子证照专用")
    return _package(objects, next(ids), used, page, font_path, font_name, w, h)
