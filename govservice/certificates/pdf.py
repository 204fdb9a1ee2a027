"""Render an electronic certificate (电子证照) as a one-page A4 PDF with ReportLab.

Pure library code: no Flask app, no database.  Callers pass every value
(title, rows, issuer, verification URL, ...) and get the PDF bytes back.

The CJK font comes from the platform's PDF toolkit (`govservice.core.pdfkit`).
"""

from __future__ import annotations

import io
import logging

from reportlab.lib.pagesizes import A4

from ..core.pdfkit import CertificatePage, FontChoice, ensure_registered, find_cjk_font, qr_matrix
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
HEADING = pdfparts.Heading(
    PAGE_W / 2,
    (PAGE_H - 118, PAGE_H - 150, PAGE_H - 174),
    34.0,
    18.0,
    0.35,
    (MARGIN_X, PAGE_W - MARGIN_X, PAGE_H - 184),
)


def render_certificate_pdf(*, font: FontChoice | None = None, **page) -> bytes:
    """Render one certificate as a single A4 page and return the PDF bytes.

    The keywords are the fields of :class:`~govservice.core.pdfkit.CertificatePage`, the same
    as the OFD's (``issuance.layout`` makes them):

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
    :param orientation: ``landscape`` lays the page out as the paper 营业执照 (``pdf_landscape``).
    :param issuer_label: what the issuer is called there (登记机关).
    :param font: font to use; defaults to :func:`find_cjk_font()`.
    """
    font = ensure_registered(font or find_cjk_font())
    pdfparts.keep_glyph_table(font.name)
    sheet = CertificatePage(**page)
    if sheet.orientation == "landscape":
        return pdf_landscape.render(sheet, font)
    return _portrait(sheet, font)


def _portrait(page: CertificatePage, font: FontChoice) -> bytes:
    fn = font.name
    buf = io.BytesIO()
    c = pdfparts.new_canvas(buf, A4, page)
    pdfparts.draw_borders(c, (PAGE_W, PAGE_H), ornaments=True)
    pdfparts.draw_heading(c, page, fn, HEADING)
    # body; the validity goes into the table unless the caller already has it
    box = (MARGIN_X, TABLE_BOTTOM_LIMIT, PAGE_W - MARGIN_X, TABLE_TOP)
    if not pdfparts.draw_fitted_table(c, page.body(), fn, (12.5, 11.5, 10.5, 9.5, 8.5, 7.5, 6.5), box):
        logger.warning("certificate rows do not fit on one page; content may overlap the footer")

    # QR code bottom left
    qr = qr_matrix(page.verify_url)
    pdfparts.draw_qr(c, qr, MARGIN_X - 6, 92.0, pdfparts.qr_size(qr[0]), fn)

    # issuer block bottom right, with the seal stamped over it
    right = PAGE_W - MARGIN_X
    c.setFillColor(pdfparts.TEXT_COLOR)
    c.setFont(fn, 13)
    c.drawRightString(right, 192, page.issuer_name)
    c.setFont(fn, 11.5)
    c.drawRightString(right, 168, f"发证日期：{page.issued_on}")
    pdfparts.draw_seal(c, right - 58, 178, 50.0, page.issuer_name, fn)

    if page.footer:
        pdfparts.draw_footer(c, page.footer, fn, MARGIN_X, 44, PAGE_W - 2 * MARGIN_X, 40)

    c.showPage()
    c.save()
    return buf.getvalue()
