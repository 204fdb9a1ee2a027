"""The blank application form of an item as a PDF (表格下载), for those who apply on paper.

Rendered with ReportLab from the same field definitions as the online form; the Chinese text
uses the platform's embedded CJK font (`core.pdfkit`). ReportLab is imported when a form is
rendered, not with this module: a web worker that serves no blank form never loads it.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from ..core import pdfkit
from .models import ServiceItem

if TYPE_CHECKING:
    from reportlab.platypus import Paragraph

SOURCE_HINTS = {"person": "申请人", "population": "申请人", "legal_person": "企业"}


def _font_name() -> str:
    font = pdfkit.font()
    return font.name


def _p(text: str, style) -> Paragraph:
    from reportlab.platypus import Paragraph

    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def render(item: ServiceItem, department_name: str) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

    font = _font_name()
    title = ParagraphStyle("title", fontName=font, fontSize=17, leading=24, alignment=1, spaceAfter=4)
    small = ParagraphStyle("small", fontName=font, fontSize=8.5, leading=12, textColor=colors.HexColor("#444444"))
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=15)
    head = ParagraphStyle("head", fontName=font, fontSize=11.5, leading=17, spaceBefore=8, spaceAfter=4)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{item.name}申请表",
        author=department_name,
        subject=item.code,
    )
    story = [
        _p(f"{item.name}申请表", title),
        _p(f"事项编码：{item.code}（第{item.version}版）　实施部门：{department_name}　事项类型：{item.kind}", small),
        Spacer(1, 6),
        _p("一、申请信息", head),
    ]
    rows = []
    for spec in item.fields:
        label = spec["label"] + (" *" if spec.get("required") else "")
        if spec["type"] == "choice":
            value = "　".join(f"□ {c}" for c in spec["choices"])
        elif spec["type"] == "date":
            value = "　　　　年　　月　　日"
        else:
            value = ""
        rows.append([_p(label, body), _p(value, body)])
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.6, colors.HexColor("#777777")),
            ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#F2F2F2")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 6),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
        ]
    )
    fields = Table(rows, colWidths=[55 * mm, 119 * mm], rowHeights=[None] * len(rows))
    fields.setStyle(grid)
    story += [fields, _p("一、带 * 的为必填项。", small)]
    if item.materials:
        story.append(_p("二、申请材料清单", head))
        materials = [[_p("材料名称", body), _p("必需", body), _p("形式", body), _p("份数", body), _p("已提交", body)]]
        for m in item.materials:
            name = m["name"] + ("（持有电子证照的可免提交）" if m.get("replaceable_by") else "")
            materials.append(
                [
                    _p(name, body),
                    _p("是" if m["required"] else "否", body),
                    _p(m["form"], body),
                    _p(str(m["copies"]), body),
                    _p("□", body),
                ]
            )
        table = Table(materials, colWidths=[92 * mm, 16 * mm, 26 * mm, 16 * mm, 24 * mm])
        table.setStyle(grid)
        story.append(table)
    story += [
        _p("三、申请人承诺", head),
        _p("本人（单位）承诺所填写的内容和提交的材料真实、合法、有效，如有虚假，愿承担相应的法律责任。", body),
        Spacer(1, 18),
        _p("申请人（签字或盖章）：＿＿＿＿＿＿＿＿＿＿＿＿　　　　日期：　　　　年　　月　　日", body),
        Spacer(1, 14),
        _p(f"办理地点：{item.guide.get('place', '')}　咨询电话：{item.guide.get('contact', '')}", small),
        _p("本表也可在“一网通办”平台在线填写提交，在线申请的无需另行提交本表。", small),
    ]
    doc.build(story)
    return buffer.getvalue()
