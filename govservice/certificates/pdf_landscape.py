"""The landscape page of a certificate laid out like the paper 营业执照: title centred at the top,
the QR at the top right (扫码核验), the registration facts in a table on the left two thirds, and
at the bottom right the 登记机关 (named with its region) and the date with the seal stamped over
them, clear of the table. The same layout data as the portrait page (``pdf.render_certificate_pdf``
dispatches here for ``orientation = "landscape"``), drawn with its parts (borders, table, QR, seal).
"""

from __future__ import annotations

import io
import logging

from reportlab.lib.pagesizes import A4, landscape

from ..core.pdfkit import CertificatePage, FontChoice, qr_matrix
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


#: the heading, centred on the page, its rule as wide as the table
HEADING = pdfparts.Heading(
    PAGE_W / 2,
    (PAGE_H - 100, PAGE_H - 128, PAGE_H - 148),
    40.0,
    20.0,
    0.5,
    (table_box()[0], table_box()[2], PAGE_H - 160),
)


def render(page: CertificatePage, font: FontChoice) -> bytes:
    fn = font.name
    buf = io.BytesIO()
    c = pdfparts.new_canvas(buf, (PAGE_W, PAGE_H), page)
    pdfparts.draw_borders(c, (PAGE_W, PAGE_H))

    pdfparts.draw_heading(c, page, fn, HEADING)
    if not pdfparts.draw_fitted_table(c, page.body(), fn, (12.0, 11.0, 10.0, 9.0, 8.0, 7.0, 6.5), table_box()):
        logger.warning("certificate rows do not fit on the landscape page; content may overlap the footer")

    # QR at the top right, inside the frame
    qr = qr_matrix(page.verify_url)
    size = min(pdfparts.qr_size(qr[0]), 130.0)
    pdfparts.draw_qr(c, qr, PAGE_W - MARGIN - size + 6, PAGE_H - 44 - size, size, fn)

    # the issuer block at the bottom right, the seal stamped over it (clear of the table)
    cx, cy = seal_centre()
    issuer_name = page.issuer_name
    c.setFillColor(pdfparts.TEXT_COLOR)
    c.setFont(fn, 12)
    c.drawCentredString(cx, cy + 64, page.issuer_label)  # above the seal, the name and date under and below it
    c.setFont(fn, 13 if len(issuer_name) <= 14 else max(9.0, 13 * 14 / len(issuer_name)))
    c.drawCentredString(cx, cy + 8, issuer_name)
    c.setFont(fn, 11.5)
    c.drawCentredString(cx, cy - 62, page.issued_on)
    pdfparts.draw_seal(c, cx, cy + 4, SEAL_RADIUS, issuer_name, fn)

    if page.footer:
        pdfparts.draw_footer(c, page.footer, fn, MARGIN, 40, PAGE_W - 2 * MARGIN, 30)

    c.showPage()
    c.save()
    return buf.getvalue()
