"""The drawing parts' process-wide caches change nothing a PDF says."""

from __future__ import annotations

import pytest
from reportlab.pdfbase import pdfmetrics

from govservice.certificates import pdf, pdfparts


def test_the_kept_glyph_table_makes_the_same_font_subset():
    font = pdf.ensure_registered(pdf.find_cjk_font(None))
    face = getattr(pdfmetrics.getFont(font.name), "face", None)
    if not hasattr(face, "get_table"):
        pytest.skip("no TrueType CJK font here")
    subset = [0, *(ord(c) for c in "营业执照北京市朝阳区张三便利店统一社会信用代码")]
    if "get_table" in vars(face):  # kept by an earlier render in this process
        del face.get_table
    before = face.makeSubset(subset)
    pdfparts.keep_glyph_table(font.name)
    assert "get_table" in vars(face)
    assert face.makeSubset(subset) == before
    assert face.get_table("glyf") is face.get_table("glyf")  # one copy, not one a document
    pdfparts.keep_glyph_table(font.name)  # again: nothing more
