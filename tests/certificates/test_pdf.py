"""Tests for govservice.certificates.pdf (certificate rendering)."""

from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from govservice.certificates import pdfparts
from govservice.certificates.pdf import render_certificate_pdf
from govservice.core import pdfkit
from govservice.core.pdfkit import FontChoice, find_cjk_font, qr_matrix

WQY_ZENHEI = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
needs_wqy = pytest.mark.skipif(
    not os.path.isfile(WQY_ZENHEI),
    reason="WenQuanYi Zen Hei not installed (apt-get install fonts-wqy-zenhei)",
)
needs_pdftoppm = pytest.mark.skipif(
    shutil.which("pdftoppm") is None,
    reason="pdftoppm not found: install poppler-utils (apt-get install poppler-utils)",
)

IDENTIFIER = "ZZ-310000-2024-000123"
VERIFY_URL = "https://gov.example.cn/verify/ZZ-310000-2024-000123?t=Q2hlY2s"
SCOPE = (
    "一般项目：技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广；软件开发；"
    "信息系统集成服务；数据处理和存储支持服务；计算机系统服务；网络技术服务；广告设计、代理；"
    "会议及展览服务；办公用品销售；电子产品销售。（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）"
)
ROWS = [
    ("统一社会信用代码", "91310000MA1FL1234X"),
    ("名称", "上海示例科技有限公司"),
    ("类型", "有限责任公司（自然人投资或控股）"),
    ("法定代表人", "张三"),
    ("注册资本", "人民币壹佰万元整"),
    ("住所", "上海市浦东新区世纪大道100号A座12层1201室"),
    ("经营范围", SCOPE),
]


def render(**overrides) -> bytes:
    kwargs = dict(
        title="营业执照",
        subtitle="（副本）",
        rows=ROWS,
        identifier=IDENTIFIER,
        issuer_name="上海市市场监督管理局",
        issued_on="2024年03月15日",
        valid_until="长期",
        verify_url=VERIFY_URL,
        footer="本电子证照由一网通办平台签发，可扫描二维码核验真伪。",
    )
    kwargs.update(overrides)
    return render_certificate_pdf(**kwargs)


def page_fonts(reader: PdfReader) -> list:
    fonts = reader.pages[0]["/Resources"]["/Font"]
    return [fonts[key].get_object() for key in fonts]


def font_descriptor(font):
    if "/FontDescriptor" in font:
        return font["/FontDescriptor"].get_object()
    if "/DescendantFonts" in font:
        descendant = font["/DescendantFonts"][0].get_object()
        if "/FontDescriptor" in descendant:
            return descendant["/FontDescriptor"].get_object()
    return None


def extracted_text(reader: PdfReader) -> str:
    return "".join(page.extract_text() or "" for page in reader.pages)


@needs_wqy
def test_find_cjk_font_prefers_embeddable_wqy_zenhei():
    choice = find_cjk_font()
    assert choice.path == WQY_ZENHEI
    assert choice.embedded is True


def test_configured_font_missing_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        find_cjk_font(str(tmp_path / "missing.ttf"))


def test_configured_font_that_is_not_truetype_is_rejected(tmp_path):
    bogus = tmp_path / "bogus.ttf"
    bogus.write_bytes(b"OTTO" + b"\0" * 64)  # CFF-flavoured OpenType header, no tables
    with pytest.raises(ValueError):
        find_cjk_font(str(bogus))


@needs_wqy
def test_configured_font_path_is_used():
    choice = find_cjk_font(WQY_ZENHEI)
    assert choice == FontChoice(name=choice.name, path=WQY_ZENHEI, embedded=True)


@needs_wqy
def test_certificate_embeds_font_and_carries_text_and_metadata():
    data = render(font=find_cjk_font())
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4

    descriptors = [font_descriptor(f) for f in page_fonts(reader)]
    cjk = [d for d in descriptors if d is not None and "/FontFile2" in d]
    assert cjk, "expected an embedded TrueType (FontFile2) font"
    # ReportLab embeds subsets: the font name carries a 6-letter subset tag.
    assert all("+" in str(d["/FontName"]) for d in cjk)

    text = extracted_text(reader)
    for expected in (
        "营业执照",
        IDENTIFIER,
        "上海示例科技有限公司",
        "上海市市场监督管理局",
        "扫码核验",
        "有效期至",
        "长期",
    ):
        assert expected in text
    # the long business scope is wrapped over several lines but fully present
    assert "一般项目" in text and "自主开展经营活动" in text

    meta = reader.metadata
    assert meta.title == "营业执照"
    assert meta.author == "上海市市场监督管理局"
    assert meta.subject == IDENTIFIER


@needs_wqy
def test_markup_characters_in_values_are_escaped():
    data = render(rows=[("名称", "A&B <有限> 公司"), ("备注", "第一行\n第二行")])
    text = extracted_text(PdfReader(io.BytesIO(data)))
    assert "A&B <有限> 公司" in text
    assert "第一行" in text and "第二行" in text


def test_many_rows_still_fit_on_one_page():
    rows = [(f"项目{i}", SCOPE) for i in range(6)]
    data = render(rows=rows)
    assert len(PdfReader(io.BytesIO(data)).pages) == 1


@needs_pdftoppm
def test_qr_code_decodes_to_verify_url(tmp_path):
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    pdf_path = tmp_path / "cert.pdf"
    pdf_path.write_bytes(render())
    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", "-singlefile", str(pdf_path), str(tmp_path / "page")],
        check=True,
        capture_output=True,
    )
    with Image.open(tmp_path / "page.png") as image:
        results = zxingcpp.read_barcodes(image.convert("L"))
    qr_texts = [r.text for r in results if r.format == zxingcpp.BarcodeFormat.QRCode]
    assert qr_texts == [VERIFY_URL]


def test_qr_code_is_vector_paths_and_the_font_a_subset():
    reader = PdfReader(io.BytesIO(render()))
    page = reader.pages[0]
    assert "/XObject" not in page["/Resources"]  # no raster image anywhere on the page
    side, modules = qr_matrix(VERIFY_URL)
    runs = pdfparts.qr_operators(side, modules).count(" re")
    assert runs > side  # one rectangle per run of dark modules, in integer module units
    assert pdfparts.qr_operators(side, modules) in page.get_contents().get_data().decode("latin-1")
    if os.path.isfile(WQY_ZENHEI):
        subsets = [d for d in map(font_descriptor, page_fonts(reader)) if d is not None and "/FontFile2" in d]
        embedded = sum(len(d["/FontFile2"].get_object().get_data()) for d in subsets)
        assert 0 < embedded < os.path.getsize(WQY_ZENHEI) / 50  # subsets, not the whole collection


def test_fallback_without_cjk_font_logs_warning_and_renders(monkeypatch, caplog):
    monkeypatch.setattr(pdfkit, "CJK_FONT_CANDIDATES", ())
    with caplog.at_level(logging.WARNING, logger=pdfkit.__name__):
        choice = find_cjk_font()
        data = render()  # font=None: searches again, falls back again
    assert choice == FontChoice(name="STSong-Light", path=None, embedded=False)
    warnings = [r for r in caplog.records if r.name == pdfkit.__name__ and r.levelno == logging.WARNING]
    assert len(warnings) >= 2
    assert "STSong-Light" in warnings[0].getMessage()

    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    fonts = page_fonts(reader)
    assert any("STSong-Light" in str(f.get("/BaseFont")) for f in fonts)
    for f in fonts:
        d = font_descriptor(f)
        assert d is None or "/FontFile2" not in d
    assert reader.metadata.subject == IDENTIFIER


def test_fallback_via_empty_search_paths(caplog):
    with caplog.at_level(logging.WARNING, logger=pdfkit.__name__):
        choice = find_cjk_font(search_paths=[])
    assert choice.embedded is False and choice.path is None
    assert any("falling back" in r.getMessage() for r in caplog.records)
